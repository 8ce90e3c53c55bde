//! The permission catalog: one tree of dotted leaves, defined once, used by the backend
//! (route declarations, checks), the SPA (what to show) and the CLI.
//!
//! A role grants *patterns*: a leaf (`steward.flows.publish`) or a subtree (`steward.flows.*`).

use serde::{Deserialize, Serialize};

/// Everything, including cross-tenant views.
pub const ADMIN_CROSS_TENANT: &str = "steward.admin.cross_tenant";
/// Start "View as" on another user.
pub const USERS_IMPERSONATE: &str = "steward.access.users.impersonate";
pub const USERS_VIEW: &str = "steward.access.users.view";
pub const USERS_MANAGE: &str = "steward.access.users.manage";
pub const ROLES_VIEW: &str = "steward.access.roles.view";
pub const ROLES_MANAGE: &str = "steward.access.roles.manage";
pub const SYSTEM_STATUS: &str = "steward.system.status";

/// One ability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leaf {
    pub id: &'static str,
    pub label: &'static str,
}

/// A group of leaves shown together (coverage is reported per module).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Module {
    pub id: &'static str,
    pub label: &'static str,
    pub leaves: &'static [Leaf],
}

const fn leaf(id: &'static str, label: &'static str) -> Leaf {
    Leaf { id, label }
}

/// Console pages: each has `read` and `write` leaves under `steward.console.<page>`.
/// Granting a page's leaf opens exactly the API operations (by operationId) that page uses.
/// Pages that are not delegable always need a super admin, whatever is granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsolePage {
    pub id: &'static str,
    pub label: &'static str,
    pub delegable: bool,
    /// Operations the page reads with (all of them when it opens); opened by
    /// `steward.console.<id>.read`. A page opens for a principal who may call every one.
    pub reads: &'static [&'static str],
    /// Operations the page changes things with; opened by `steward.console.<id>.write`.
    pub writes: &'static [&'static str],
}

impl ConsolePage {
    pub fn read_leaf(&self) -> &'static str {
        leaf_of(self.id, "read")
    }

    pub fn write_leaf(&self) -> &'static str {
        leaf_of(self.id, "write")
    }
}

fn leaf_of(page: &str, kind: &str) -> &'static str {
    let id = format!("steward.console.{page}.{kind}");
    find_leaf(&id).map(|l| l.id).unwrap_or("steward.console.missing")
}

const fn page(
    id: &'static str,
    label: &'static str,
    reads: &'static [&'static str],
    writes: &'static [&'static str],
) -> ConsolePage {
    ConsolePage { id, label, delegable: true, reads, writes }
}

const fn root_page(
    id: &'static str,
    label: &'static str,
    reads: &'static [&'static str],
    writes: &'static [&'static str],
) -> ConsolePage {
    ConsolePage { id, label, delegable: false, reads, writes }
}

pub const CONSOLE_PAGES: &[ConsolePage] = &[
    page("dashboard", "Dashboard", &["get_dashboard"], &["refresh_cache"]),
    page(
        "users",
        "Users",
        &["list_users", "user_metrics", "get_user", "list_workspaces", "list_roles"],
        &[
            "create_user",
            "update_user",
            "activate_user",
            "deactivate_user",
            "erase_user",
            "bulk_users",
            "send_password_reset",
            "request_password_reset",
            "reset_user_two_factor",
            "set_super_admin",
            "list_user_tokens",
            "revoke_user_token",
        ],
    ),
    page(
        "roles",
        "Roles",
        &["list_roles", "role_metrics", "get_role", "list_role_members", "list_workspaces", "explain_access"],
        &["create_role", "update_role", "delete_role", "add_member", "set_member_role", "remove_member"],
    ),
    page(
        "invitations",
        "Invitations",
        &["list_invitations", "list_workspaces", "list_roles"],
        &["create_invitation", "revoke_invitation"],
    ),
    page("sessions", "Sessions", &["list_sessions"], &["revoke_session", "revoke_user_sessions"]),
    // Whether someone holds a leaf and why: finding the user is part of asking.
    page("explain", "Explain access", &["explain_access", "list_users", "get_user", "list_workspaces"], &[]),
    // Looking at the log is reading; exporting and verifying it are acts on it.
    page("audit", "Audit log", &["list_audit", "get_audit_event"], &["export_audit", "verify_audit"]),
    page("impersonations", "Impersonation history", &["list_impersonations"], &[]),
    page(
        "customers",
        "Customers",
        &["customer_overview", "get_customer", "list_workspaces"],
        &["create_customer", "rename_customer"],
    ),
    page("system", "System status", &["get_system_status"], &[]),
    page("stats", "Stats", &["get_stats"], &[]),
    page("logs", "Logs", &["list_logs", "follow_logs", "list_outbox"], &["resend_mail"]),
    page(
        "data_ops",
        "Data ops",
        &["list_duplicate_groups", "list_merges", "get_migration_status", "list_records"],
        &["merge_records", "unmerge_records", "refresh_record"],
    ),
    page("hash_warnings", "Hash warnings", &["get_hash_warnings", "list_duplicate_groups"], &[]),
    root_page("workspaces", "Workspaces roots", &[], &["create_workspace", "rename_workspace"]),
    root_page(
        "data_explorer",
        "Data explorer",
        &["list_explorer_tables", "query_explorer_rows", "follow_explorer_changes"],
        &["update_explorer_row", "batch_explorer_rows"],
    ),
    root_page(
        "platform_actions",
        "Platform actions",
        &["list_platform_actions", "get_platform_action"],
        &["request_platform_action", "mint_transfer_token"],
    ),
    root_page(
        "applications",
        "Applications",
        &["list_applications", "get_application", "list_application_commits"],
        &[
            "install_application_archive",
            "install_application_git",
            "upload_application_version",
            "update_application",
            "pin_application_commit",
            "switch_application_version",
            "activate_application",
            "deactivate_application",
            "delete_application",
            "install_application_transfer",
        ],
    ),
    root_page("import_errors", "Import errors", &["list_import_errors"], &[]),
    root_page("packages", "Packages", &["list_packages"], &[]),
    root_page(
        "settings",
        "Settings",
        &["get_two_factor_policy", "get_config", "get_settings"],
        &["set_two_factor_policy", "update_settings"],
    ),
];

/// Whether the operation belongs to a console page that is never delegable: its route must be
/// declared super-admin only (the contract test holds the two together).
pub fn is_root_operation(operation_id: &str) -> bool {
    CONSOLE_PAGES
        .iter()
        .filter(|p| !p.delegable)
        .any(|p| p.reads.contains(&operation_id) || p.writes.contains(&operation_id))
}

/// Whether `leaf` belongs to a console page that is never delegable (super admins only).
pub fn is_root_only(leaf: &str) -> bool {
    CONSOLE_PAGES.iter().any(|p| !p.delegable && (p.read_leaf() == leaf || p.write_leaf() == leaf))
}

/// The delegable page leaves that open the operation `operation_id`.
pub fn page_leaves_for(operation_id: &str) -> Vec<&'static str> {
    let mut out = Vec::new();
    for p in CONSOLE_PAGES.iter().filter(|p| p.delegable) {
        if p.reads.contains(&operation_id) {
            out.push(p.read_leaf());
        }
        if p.writes.contains(&operation_id) {
            out.push(p.write_leaf());
        }
    }
    out
}

/// The whole catalog. Leaf ids are unique; each starts with its module id.
pub const CATALOG: &[Module] = &[
    Module {
        id: "steward.admin",
        label: "Platform administration",
        leaves: &[leaf(ADMIN_CROSS_TENANT, "See and act across every customer (admin mode)")],
    },
    Module {
        id: "steward.access",
        label: "Access",
        leaves: &[
            leaf(USERS_VIEW, "View users"),
            leaf(USERS_MANAGE, "Create, edit, deactivate and erase users"),
            leaf(USERS_IMPERSONATE, "View as another user"),
            leaf(ROLES_VIEW, "View roles and memberships"),
            leaf(ROLES_MANAGE, "Create, edit and assign roles"),
            leaf("steward.access.invitations.manage", "Invite users, revoke invitations"),
            leaf("steward.access.sessions.manage", "List and revoke sessions"),
        ],
    },
    Module {
        id: "steward.customers",
        label: "Customers",
        leaves: &[
            leaf("steward.customers.view", "View customers and workspaces"),
            leaf("steward.customers.manage", "Create and edit customers and workspaces"),
        ],
    },
    Module {
        id: "steward.flows",
        label: "Flows",
        leaves: &[
            leaf("steward.flows.view", "View flows"),
            leaf("steward.flows.edit", "Create and edit flows"),
            leaf("steward.flows.publish", "Publish flows"),
            leaf("steward.flows.pause", "Pause and resume flows"),
            leaf("steward.flows.trigger", "Trigger and cancel runs"),
        ],
    },
    Module { id: "steward.runs", label: "Runs", leaves: &[leaf("steward.runs.view", "View runs")] },
    Module {
        id: "steward.connectors",
        label: "Connectors",
        leaves: &[
            leaf("steward.connectors.view", "View connectors"),
            leaf("steward.connectors.manage", "Create and edit connectors"),
            leaf("steward.connectors.rotate_keys", "Rotate connector API keys"),
        ],
    },
    Module {
        id: "steward.data",
        label: "Data",
        leaves: &[
            leaf("steward.data.view", "View canonical records"),
            leaf("steward.data.ops", "Merge duplicates, force-refresh entities"),
        ],
    },
    Module {
        id: "steward.cache",
        label: "Cache",
        leaves: &[leaf("steward.cache.refresh", "Rebuild a customer's KPI and data caches")],
    },
    Module {
        id: "steward.audit",
        label: "Audit",
        leaves: &[
            leaf("steward.audit.view", "Browse the audit log"),
            leaf("steward.audit.export", "Export the audit log"),
            leaf("steward.audit.verify", "Verify the audit hash chain"),
        ],
    },
    Module {
        id: "steward.system",
        label: "System",
        leaves: &[
            leaf(SYSTEM_STATUS, "View system status, metrics and stats over time"),
            leaf("steward.system.logs", "View platform and system logs and the mail outbox"),
            leaf("steward.system.mail", "Resend mail the outbox gave up on"),
            leaf(
                "steward.system.settings",
                "See the configuration and change instance settings (lifetimes, password rule, 2FA policy)",
            ),
        ],
    },
    Module {
        id: "steward.console",
        label: "Console pages",
        leaves: &[
            leaf("steward.console.dashboard.read", "Dashboard: read"),
            leaf("steward.console.dashboard.write", "Dashboard: write"),
            leaf("steward.console.users.read", "Users page: read"),
            leaf("steward.console.users.write", "Users page: write"),
            leaf("steward.console.roles.read", "Roles page: read"),
            leaf("steward.console.roles.write", "Roles page: write"),
            leaf("steward.console.invitations.read", "Invitations page: read"),
            leaf("steward.console.invitations.write", "Invitations page: write"),
            leaf("steward.console.sessions.read", "Sessions page: read"),
            leaf("steward.console.sessions.write", "Sessions page: write"),
            leaf("steward.console.explain.read", "Explain access page: read"),
            leaf("steward.console.explain.write", "Explain access page: write"),
            leaf("steward.console.audit.read", "Audit log page: read"),
            leaf("steward.console.audit.write", "Audit log page: write"),
            leaf("steward.console.impersonations.read", "Impersonation history page: read"),
            leaf("steward.console.impersonations.write", "Impersonation history page: write"),
            leaf("steward.console.customers.read", "Customers page: read"),
            leaf("steward.console.customers.write", "Customers page: write"),
            leaf("steward.console.system.read", "System status page: read"),
            leaf("steward.console.system.write", "System status page: write"),
            leaf("steward.console.stats.read", "Stats page: read"),
            leaf("steward.console.stats.write", "Stats page: write"),
            leaf("steward.console.logs.read", "Logs page: read"),
            leaf("steward.console.logs.write", "Logs page: write"),
            leaf("steward.console.data_ops.read", "Data ops page: read"),
            leaf("steward.console.data_ops.write", "Data ops page: write"),
            leaf("steward.console.hash_warnings.read", "Hash warnings page: read"),
            leaf("steward.console.hash_warnings.write", "Hash warnings page: write"),
            leaf("steward.console.workspaces.read", "Workspaces roots: read (super admin only)"),
            leaf("steward.console.workspaces.write", "Workspaces roots: write (super admin only)"),
            leaf("steward.console.data_explorer.read", "Data explorer: read (super admin only)"),
            leaf("steward.console.data_explorer.write", "Data explorer: write (super admin only)"),
            leaf("steward.console.platform_actions.read", "Platform actions: read (super admin only)"),
            leaf("steward.console.platform_actions.write", "Platform actions: write (super admin only)"),
            leaf("steward.console.applications.read", "Applications: read (super admin only)"),
            leaf("steward.console.applications.write", "Applications: write (super admin only)"),
            leaf("steward.console.import_errors.read", "Import errors: read (super admin only)"),
            leaf("steward.console.import_errors.write", "Import errors: write (super admin only)"),
            leaf("steward.console.packages.read", "Packages: read (super admin only)"),
            leaf("steward.console.packages.write", "Packages: write (super admin only)"),
            leaf("steward.console.settings.read", "Settings: read (super admin only)"),
            leaf("steward.console.settings.write", "Settings: write (super admin only)"),
        ],
    },
];

/// Every leaf of the catalog, in catalog order.
pub fn all_leaves() -> impl Iterator<Item = &'static Leaf> {
    CATALOG.iter().flat_map(|m| m.leaves.iter())
}

/// The catalog leaf with this id.
pub fn find_leaf(id: &str) -> Option<&'static Leaf> {
    all_leaves().find(|l| l.id == id)
}

/// Says in words which leaves these are, for a person reading a refusal: grouped by module in
/// catalog order, a whole module named once ("all of Flows"), at most four modules spelled out.
/// Ids outside the catalog are named as they are.
pub fn describe_leaves(leaves: &[&str]) -> String {
    const SHOWN: usize = 4;
    let mut parts: Vec<String> = CATALOG
        .iter()
        .filter_map(|m| {
            let held: Vec<&Leaf> = m.leaves.iter().filter(|l| leaves.contains(&l.id)).collect();
            match held.len() {
                0 => None,
                n if n == m.leaves.len() && n > 1 => Some(format!("all of {}", m.label)),
                _ => Some(format!(
                    "{}: {}",
                    m.label,
                    held.iter().map(|l| l.label.to_lowercase()).collect::<Vec<_>>().join(", ")
                )),
            }
        })
        .collect();
    parts.extend(leaves.iter().filter(|l| find_leaf(l).is_none()).map(|l| format!("`{l}`")));
    let hidden = parts.len().saturating_sub(SHOWN);
    parts.truncate(SHOWN);
    let mut out = parts.join("; ");
    if hidden > 0 {
        out.push_str(&format!("; and {hidden} more area{}", if hidden == 1 { "" } else { "s" }));
    }
    out
}

/// Whether `pattern` (a leaf, or a subtree ending in `.*`) covers `leaf`.
pub fn pattern_covers(pattern: &str, leaf: &str) -> bool {
    match pattern.strip_suffix(".*") {
        Some(prefix) => {
            leaf.len() > prefix.len() + 1
                && leaf.starts_with(prefix)
                && leaf.as_bytes().get(prefix.len()) == Some(&b'.')
        }
        None => pattern == leaf,
    }
}

/// Why a pattern is not acceptable in a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternError {
    Malformed,
    UnknownLeaf,
    EmptySubtree,
}

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Malformed => "is not a dotted permission id or a subtree ending in `.*`",
            Self::UnknownLeaf => "is not a leaf of the permission catalog",
            Self::EmptySubtree => "covers no leaf of the permission catalog",
        })
    }
}

/// Checks a role pattern against the catalog.
pub fn validate_pattern(pattern: &str) -> Result<(), PatternError> {
    let body = pattern.strip_suffix(".*").unwrap_or(pattern);
    let well_formed = !body.is_empty()
        && body.split('.').all(|seg| {
            !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        });
    if !well_formed {
        return Err(PatternError::Malformed);
    }
    if pattern.ends_with(".*") {
        if all_leaves().any(|l| pattern_covers(pattern, l.id)) {
            Ok(())
        } else {
            Err(PatternError::EmptySubtree)
        }
    } else if find_leaf(pattern).is_some() {
        Ok(())
    } else {
        Err(PatternError::UnknownLeaf)
    }
}

/// Every pattern a role or a token may hold: each leaf, and each subtree (`a.b.*`) that covers
/// a leaf; what [`validate_pattern`] takes, as a list.
pub fn all_patterns() -> Vec<String> {
    let mut patterns: Vec<String> = all_leaves().map(|l| l.id.to_owned()).collect();
    for leaf in all_leaves() {
        let ends = leaf.id.match_indices('.').map(|(i, _)| i).chain([leaf.id.len()]);
        for end in ends {
            let subtree = format!("{}.*", leaf.id.get(..end).unwrap_or_default());
            if !patterns.contains(&subtree) && validate_pattern(&subtree).is_ok() {
                patterns.push(subtree);
            }
        }
    }
    patterns
}

/// The leaves a set of patterns grants, in catalog order.
pub fn expand<'a>(patterns: impl IntoIterator<Item = &'a str> + Clone) -> Vec<&'static str> {
    all_leaves().filter(|l| patterns.clone().into_iter().any(|p| pattern_covers(p, l.id))).map(|l| l.id).collect()
}

/// What a route needs, as declared next to it and published as `x-permission`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Requirement {
    /// Anyone, no credential.
    Public,
    /// Any live session or API token.
    Authenticated,
    /// This catalog leaf.
    Leaf(&'static str),
    /// This catalog leaf, held by a super admin: the operations of never-delegable console
    /// pages (Settings, Workspaces roots, Data explorer, Platform actions).
    SuperAdmin(&'static str),
    /// As `SuperAdmin`, and also a super admin viewing as someone: the handler then answers
    /// with exactly what the target may see (the Data explorer's reads).
    SuperAdminView(&'static str),
}

impl Requirement {
    /// The value of `x-permission` in the spec: `public`, `authenticated`, the leaf, or
    /// `super_admin:<leaf>`.
    pub fn x_permission(&self) -> String {
        match self {
            Self::Public => "public".into(),
            Self::Authenticated => "authenticated".into(),
            Self::Leaf(l) => (*l).into(),
            Self::SuperAdmin(l) | Self::SuperAdminView(l) => format!("super_admin:{l}"),
        }
    }

    /// The leaf this requirement names, if any.
    /// Whether only super admins pass (the operations of never-delegable pages).
    pub fn super_admin_only(&self) -> bool {
        matches!(self, Self::SuperAdmin(_) | Self::SuperAdminView(_))
    }

    pub fn leaf(&self) -> Option<&'static str> {
        match self {
            Self::Leaf(l) | Self::SuperAdmin(l) | Self::SuperAdminView(l) => Some(l),
            Self::Public | Self::Authenticated => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaves_are_described_in_words_by_module() {
        let flows: Vec<&str> =
            CATALOG.iter().find(|m| m.id == "steward.flows").unwrap().leaves.iter().map(|l| l.id).collect();
        assert_eq!(describe_leaves(&flows), "all of Flows");
        assert_eq!(
            describe_leaves(&["steward.flows.publish", USERS_IMPERSONATE, "steward.flows.pause"]),
            "Access: view as another user; Flows: publish flows, pause and resume flows"
        );
        let everything: Vec<&str> = all_leaves().map(|l| l.id).collect();
        let said = describe_leaves(&everything);
        assert!(said.starts_with("Platform administration: "), "{said}");
        assert!(said.contains("; all of Access; "), "{said}");
        assert!(said.ends_with("more areas"), "{said}");
        assert_eq!(describe_leaves(&["not.a.leaf"]), "`not.a.leaf`");
    }

    #[test]
    fn leaf_ids_are_unique_and_inside_their_module() {
        let mut seen = std::collections::HashSet::new();
        for m in CATALOG {
            for l in m.leaves {
                assert!(seen.insert(l.id), "duplicate leaf {}", l.id);
                assert!(l.id.starts_with(&format!("{}.", m.id)), "{} outside {}", l.id, m.id);
                assert_eq!(validate_pattern(l.id), Ok(()));
            }
        }
    }

    #[test]
    fn every_console_page_has_read_and_write() {
        for p in CONSOLE_PAGES {
            for suffix in ["read", "write"] {
                let id = format!("steward.console.{}.{suffix}", p.id);
                assert!(find_leaf(&id).is_some(), "missing {id}");
            }
            assert!(p.read_leaf().starts_with("steward.console.") && p.read_leaf() != "steward.console.missing");
        }
    }

    #[test]
    fn only_root_pages_are_root_only() {
        assert!(is_root_only("steward.console.settings.write"));
        assert!(is_root_only("steward.console.data_explorer.read"));
        assert!(!is_root_only("steward.console.roles.write"));
        assert!(!is_root_only("steward.flows.view"));
        assert_eq!(page_leaves_for("create_role"), ["steward.console.roles.write"]);
        assert_eq!(page_leaves_for("list_workspaces").len(), 5);
    }

    #[test]
    fn subtree_patterns_cover_only_their_subtree() {
        assert!(pattern_covers("steward.flows.*", "steward.flows.publish"));
        assert!(!pattern_covers("steward.flows.*", "steward.flowsx.publish"));
        assert!(!pattern_covers("steward.flows.*", "steward.flows"));
        assert!(pattern_covers("steward.*", "steward.admin.cross_tenant"));
        assert!(!pattern_covers("steward.flows.publish", "steward.flows.pause"));
    }

    #[test]
    fn malformed_and_unknown_patterns_are_refused() {
        assert_eq!(validate_pattern("steward..x"), Err(PatternError::Malformed));
        assert_eq!(validate_pattern("Steward.flows"), Err(PatternError::Malformed));
        assert_eq!(validate_pattern("*"), Err(PatternError::Malformed));
        assert_eq!(validate_pattern("steward.flows.fly"), Err(PatternError::UnknownLeaf));
        assert_eq!(validate_pattern("steward.nothing.*"), Err(PatternError::EmptySubtree));
        assert_eq!(validate_pattern("steward.flows.*"), Ok(()));
    }
}
