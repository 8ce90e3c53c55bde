//! Which console pages a principal can open: a page opens when every operation it reads with
//! passes the same check the gate makes, and is writable when its writes pass too. The route
//! table the gate enforces is handed to the state when the router is built.

use steward_shared::api::ConsolePageAccess;
use steward_shared::permissions::CONSOLE_PAGES;

use crate::access::Actor;

pub use crate::state::Operations;

/// Whether `actor` may call the operation.
pub fn may_call(actor: &Actor, operations: &Operations, operation_id: &str) -> bool {
    operations.get(operation_id).is_some_and(|(requirement, leaves)| actor.passes(requirement, leaves))
}

/// The console pages open to `actor`. A page that reads nothing yet opens with its own read
/// leaf (super admins hold every leaf); a never-delegable page only for super admins.
pub fn open_pages(actor: &Actor, operations: &Operations) -> Vec<ConsolePageAccess> {
    CONSOLE_PAGES
        .iter()
        .filter(|p| p.delegable || actor.super_admin_throughout())
        .filter(|p| {
            if p.reads.is_empty() {
                actor.holds(p.read_leaf())
            } else {
                p.reads.iter().all(|op| may_call(actor, operations, op))
            }
        })
        .map(|p| ConsolePageAccess {
            id: p.id.into(),
            write: !p.writes.is_empty() && p.writes.iter().all(|op| may_call(actor, operations, op)),
        })
        .collect()
}
