//! Roles: the fixed ids of the system roles seeded by migration.

use uuid::Uuid;

/// `admin`: everything, including cross-tenant views.
pub const SYSTEM_ADMIN_ROLE: Uuid = Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_0001);
/// `operator`: read all, trigger runs, pause flows, rotate keys.
pub const SYSTEM_OPERATOR_ROLE: Uuid = Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_0002);
/// `viewer`: read only.
pub const SYSTEM_VIEWER_ROLE: Uuid = Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_0003);
