//! What request fields accept, defined once. The server checks a value against its rule (a 422
//! naming the field) and the OpenAPI spec states the same rule on the field ([`FIELDS`]), so a
//! value the schema accepts is one the server accepts, and a generated client can know why a
//! value is refused before it sends it.

/// Control characters: refused in every request string by the body extractor; tab, line feed
/// and carriage return are allowed in multi-line fields.
const CONTROL: &str = r"\u0000-\u001F\u007F-\u009F";
const CONTROL_BUT_LINES: &str = r"\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F";
/// One character that is neither a control character nor white space (Unicode `White_Space`,
/// what `str::trim` removes).
const VISIBLE: &str = r"[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]";

/// Free text. Leading and trailing white space is trimmed away; what is left must hold at least
/// `min` characters, and the value as sent at most `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Text {
    pub min: usize,
    pub max: usize,
    /// Tab, line feed and carriage return are allowed.
    pub lines: bool,
}

impl Text {
    pub const fn line(min: usize, max: usize) -> Self {
        Self { min, max, lines: false }
    }

    pub const fn lines(min: usize, max: usize) -> Self {
        Self { min, max, lines: true }
    }

    /// The JSON Schema `pattern`: no control character, and at least `min` characters between
    /// the first and the last that is not white space.
    pub fn pattern(&self) -> String {
        let any = format!("[^{}]", if self.lines { CONTROL_BUT_LINES } else { CONTROL });
        match self.min {
            0 => format!("^{any}*$"),
            1 => format!("^{any}*{VISIBLE}{any}*$"),
            n => format!("^{any}*{VISIBLE}{any}{{{},}}{VISIBLE}{any}*$", n - 2),
        }
    }

    /// Why a value is refused, or `None`: the rule the pattern and lengths above state.
    pub fn refuse(&self, value: &str) -> Option<String> {
        let trimmed = value.trim().chars().count();
        if trimmed < self.min {
            Some(if self.min == 1 {
                "must not be empty".into()
            } else {
                format!("must be at least {} characters", self.min)
            })
        } else if value.chars().count() > self.max {
            Some(format!("must be at most {} characters", self.max))
        } else {
            None
        }
    }
}

/// A secret (a password): taken as sent, no trimming; `min` to `max` characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Secret {
    pub min: usize,
    pub max: usize,
}

impl Secret {
    pub fn refuse(&self, value: &str) -> Option<String> {
        let len = value.chars().count();
        if len < self.min {
            Some(if self.min == 1 {
                "must not be empty".into()
            } else {
                format!("must be at least {} characters", self.min)
            })
        } else if len > self.max {
            Some(format!("must be at most {} characters", self.max))
        } else {
            None
        }
    }
}

/// An integer in `min..=max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub min: i64,
    pub max: i64,
    /// The unit the message names ("days", "hours").
    pub unit: &'static str,
}

impl Range {
    pub fn refuse(&self, value: i64) -> Option<String> {
        (!(self.min..=self.max).contains(&value)).then(|| format!("must be {} to {} {}", self.min, self.max, self.unit))
    }
}

/// A list holding `min` to `max` items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Items {
    pub min: usize,
    pub max: usize,
}

impl Items {
    pub fn refuse(&self, len: usize) -> Option<String> {
        (!(self.min..=self.max).contains(&len)).then(|| format!("must hold {} to {} items", self.min, self.max))
    }
}

/// An email address, loosely: one `@`, something before it, a domain with a dot inside, no white
/// space within, at most 254 characters as sent; leading and trailing white space is trimmed.
pub const EMAIL_MAX: usize = 254;

/// The JSON Schema `pattern` of an email address ([`refuse_email`]'s rule).
pub fn email_pattern() -> String {
    let space = r"[\u0020\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]";
    let part = r"[^@\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]";
    let edge = r"[^@.\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]";
    format!("^{space}*{part}+@{edge}{part}*\\.{part}*{edge}{space}*$")
}

/// Why an email address is refused, or `None`.
pub fn refuse_email(value: &str) -> Option<&'static str> {
    let email = value.trim();
    let valid = value.chars().count() <= EMAIL_MAX
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            }
            None => false,
        };
    (!valid).then_some("must be a valid email address")
}

// The rules themselves.

/// The name of a person, customer, workspace, flow, connector.
pub const NAME: Text = Text::line(1, 200);
/// The name of a role or an API token.
pub const SHORT_NAME: Text = Text::line(1, 100);
pub const ROLE_DESCRIPTION: Text = Text::lines(0, 500);
/// Why someone is viewed as (stored with the audit events).
pub const REASON: Text = Text::lines(3, 500);
/// A BCP 47 language tag, loosely.
pub const LOCALE: Text = Text::line(2, 35);
pub const CONNECTOR_KIND: Text = Text::line(1, 120);
/// A search fragment.
pub const SEARCH: Text = Text::line(0, 100);
/// What a sign-in form takes: any text, checked against the account.
pub const LOGIN_EMAIL: Text = Text::line(1, EMAIL_MAX);
pub const LOGIN_PASSWORD: Secret = Secret { min: 1, max: 256 };
/// Log filters, matched exactly as sent: a log's tab, the text a line contains, a request id.
pub const LOG_KIND: Secret = Secret { min: 1, max: 40 };
pub const LOG_TEXT: Secret = Secret { min: 1, max: 200 };
pub const REQUEST_ID: Secret = Secret { min: 1, max: 64 };
/// A token the server issued (a mail's link, a refresh credential), as pasted back.
pub const ISSUED_TOKEN: Secret = Secret { min: 1, max: 200 };
/// A new password. `min` is the floor; the password policy (`password_min_length`, 8 to 128,
/// 12 by default) may ask for more at run time, and refuses a common password whole.
pub const PASSWORD: Secret = Secret { min: 12, max: 256 };

pub const TOKEN_DAYS: Range = Range { min: 1, max: 366, unit: "days" };
pub const INVITATION_HOURS: Range = Range { min: 1, max: 720, unit: "hours" };
pub const TRANSFER_MINUTES: Range = Range { min: 1, max: 60, unit: "minutes" };
pub const SESSION_SECS: Range = Range { min: 300, max: 7_776_000, unit: "seconds" };
pub const ACCESS_TOKEN_SECS: Range = Range { min: 60, max: 86_400, unit: "seconds" };
pub const IMPERSONATION_MINUTES: Range = Range { min: 1, max: 480, unit: "minutes" };
pub const PASSWORD_MIN_LENGTH: Range = Range { min: 8, max: 128, unit: "characters" };

/// Rows of one page of a list.
pub const PAGE_ROWS: Range = Range { min: 1, max: 200, unit: "rows" };

/// The leaves or patterns of an API token.
pub const TOKEN_PERMISSIONS: Items = Items { min: 1, max: 100 };
/// Users a bulk action names.
pub const BULK_USERS: Items = Items { min: 1, max: 500 };
/// Rows an explorer batch names by id.
pub const BATCH_ROWS: Items = Items { min: 1, max: 10_000 };
/// Records one merge folds into its survivor.
pub const MERGED: Items = Items { min: 1, max: 100 };
/// The patterns a role grants.
pub const ROLE_PATTERNS: Items = Items { min: 0, max: 500 };
/// The columns an explorer query asks for (none: the table's defaults).
pub const EXPLORER_COLUMNS: Items = Items { min: 0, max: 40 };
/// The conditions of an explorer selection.
pub const FILTERS: Items = Items { min: 0, max: 20 };

/// The platform actions a super admin may request.
pub const PLATFORM_ACTIONS: &[&str] =
    &["restart_workers", "reload_applications", "purge_demo_data", "delete_public_objects"];

/// A customer's slug: 1 to 100 lowercase ASCII letters, digits and dashes, taken as sent.
pub const SLUG_MAX: usize = 100;
pub const SLUG_PATTERN: &str = "^[a-z0-9-]+$";

/// Why a slug is refused, or `None` ([`SLUG_PATTERN`], [`SLUG_MAX`]).
pub fn refuse_slug(value: &str) -> Option<&'static str> {
    let valid = !value.is_empty()
        && value.len() <= SLUG_MAX
        && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    (!valid).then_some("must be 1 to 100 lowercase letters, digits and dashes")
}

/// A service address: `http` or `https`, a host (a DNS name whose labels start with a letter,
/// or an IPv4 address), an optional port, an optional path; no credentials, query or fragment;
/// at most 2048 characters, taken as sent.
pub const URL_MAX: usize = 2048;
const OCTET: &str = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
const LABEL: &str = "[A-Za-z](-?[A-Za-z0-9])*";
const PORT: &str = "(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}|0)";
/// The characters of a URL path ([`url_pattern`]).
const PATH_CHARS: &str = "A-Za-z0-9._~!$&'()*+,;=:@%/-";

/// The JSON Schema `pattern` of a service address ([`refuse_url`]'s rule).
pub fn url_pattern() -> String {
    format!("^https?://({OCTET}(\\.{OCTET}){{3}}|{LABEL}(\\.{LABEL})*)(:{PORT})?(/[{PATH_CHARS}]*)?$")
}

/// Why a service address is refused, or `None` ([`url_pattern`], [`URL_MAX`]).
pub fn refuse_url(value: &str) -> Option<&'static str> {
    let why = "must be an http(s) URL with a host and no credentials, query or fragment";
    let rest = value.strip_prefix("http://").or_else(|| value.strip_prefix("https://"));
    let Some(rest) = rest.filter(|_| value.chars().count() <= URL_MAX) else {
        return Some(why);
    };
    let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    let octet = |o: &str| {
        !o.is_empty()
            && o.len() <= 3
            && o.bytes().all(|b| b.is_ascii_digit())
            && (o == "0" || !o.starts_with('0'))
            && o.parse::<u16>().is_ok_and(|n| n <= 255)
    };
    let label = |l: &str| {
        let b = l.as_bytes();
        b.first().is_some_and(u8::is_ascii_alphabetic)
            && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
            && !l.contains("--")
            && !l.ends_with('-')
    };
    let parts: Vec<&str> = host.split('.').collect();
    let host_ok = (parts.len() == 4 && parts.iter().all(|p| octet(p))) || parts.iter().all(|p| label(p));
    let port_ok = port.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 5
            && p.bytes().all(|b| b.is_ascii_digit())
            && (p == "0" || !p.starts_with('0'))
            && p.parse::<u32>().is_ok_and(|n| n <= 65_535)
    });
    let path_ok = path.bytes().all(|b| b.is_ascii_alphanumeric() || b"._~!$&'()*+,;=:@%/-".contains(&b));
    (!(host_ok && port_ok && path_ok)).then_some(why)
}

/// A flow's schedule, taken as sent: `every ` and a count with its unit, 10 to 99999 seconds,
/// 1 to 99999 minutes, 1 to 999 hours or 1 to 366 days (`every 15m`).
pub const SCHEDULE_PATTERN: &str =
    "^every ([1-9][0-9]{1,4}s|[1-9][0-9]{0,4}m|[1-9][0-9]{0,2}h|([1-9]|[1-9][0-9]|[12][0-9]{2}|3[0-5][0-9]|36[0-6])d)$";

/// Why a schedule is refused, or `None` ([`SCHEDULE_PATTERN`]).
pub fn refuse_schedule(value: &str) -> Option<&'static str> {
    let why = "must look like `every 15m`: 10–99999 s, 1–99999 m, 1–999 h or 1–366 d";
    let Some(rest) = value.strip_prefix("every ") else { return Some(why) };
    let Some(unit) = rest.chars().last() else { return Some(why) };
    let digits = &rest[..rest.len() - unit.len_utf8()];
    let lengths = match unit {
        's' => 2..=5,
        'm' => 1..=5,
        'h' | 'd' => 1..=3,
        _ => return Some(why),
    };
    let valid = lengths.contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
        && (unit != 'd' || digits.parse::<u32>().is_ok_and(|n| n <= 366));
    (!valid).then_some(why)
}

/// One rule of a request field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    Text(Text),
    Secret(Secret),
    Email,
    /// A customer's slug ([`refuse_slug`]).
    Slug,
    /// A service address ([`refuse_url`]).
    Url,
    /// A flow's schedule ([`refuse_schedule`]).
    Schedule,
    Range(Range),
    Items(Items),
    /// One of these words.
    OneOf(&'static [&'static str]),
    /// A leaf of the permission catalog.
    Leaf,
    /// A leaf or a subtree pattern that covers one ([`crate::permissions::all_patterns`]).
    Pattern,
}

impl Rule {
    /// The closed set of values, for the rules that have one.
    pub fn values(&self) -> Option<Vec<String>> {
        match self {
            Rule::OneOf(words) => Some(words.iter().map(|w| (*w).to_owned()).collect()),
            Rule::Leaf => Some(crate::permissions::all_leaves().map(|l| l.id.to_owned()).collect()),
            Rule::Pattern => Some(crate::permissions::all_patterns()),
            _ => None,
        }
    }
}

/// Every rule the spec states, by component schema and property (`name[]` for an array's items).
/// The OpenAPI generator applies each one and fails when a schema or property is not there.
pub const FIELDS: &[(&str, &str, Rule)] = &[
    ("AcceptInvitation", "name", Rule::Text(NAME)),
    ("AcceptInvitation", "password", Rule::Secret(PASSWORD)),
    ("AcceptInvitation", "token", Rule::Secret(ISSUED_TOKEN)),
    ("AddMember", "email", Rule::Email),
    ("CompletePasswordReset", "password", Rule::Secret(PASSWORD)),
    ("CompletePasswordReset", "token", Rule::Secret(ISSUED_TOKEN)),
    ("RefreshRequest", "refresh_token", Rule::Secret(ISSUED_TOKEN)),
    ("CreateApiToken", "name", Rule::Text(SHORT_NAME)),
    ("CreateApiToken", "expires_in_days", Rule::Range(TOKEN_DAYS)),
    ("CreateApiToken", "permissions", Rule::Items(TOKEN_PERMISSIONS)),
    ("CreateApiToken", "permissions[]", Rule::Pattern),
    ("CreateConnector", "name", Rule::Text(NAME)),
    ("CreateConnector", "kind", Rule::Text(CONNECTOR_KIND)),
    ("CreateConnector", "endpoint", Rule::Url),
    ("CreateCustomer", "name", Rule::Text(NAME)),
    ("CreateCustomer", "slug", Rule::Slug),
    ("CreateCustomer", "workspace_name", Rule::Text(NAME)),
    ("CreateFlow", "name", Rule::Text(NAME)),
    ("CreateFlow", "schedule", Rule::Schedule),
    ("CreateInvitation", "email", Rule::Email),
    ("CreateInvitation", "expires_in_hours", Rule::Range(INVITATION_HOURS)),
    ("CreateUser", "name", Rule::Text(NAME)),
    ("CreateUser", "email", Rule::Email),
    ("CreateUser", "locale", Rule::Text(LOCALE)),
    ("CreateUser", "password", Rule::Secret(PASSWORD)),
    ("BulkUsers", "ids", Rule::Items(BULK_USERS)),
    ("LoginRequest", "email", Rule::Text(LOGIN_EMAIL)),
    ("LoginRequest", "password", Rule::Secret(LOGIN_PASSWORD)),
    ("ExplorerQuery", "limit", Rule::Range(PAGE_ROWS)),
    ("ExplorerQuery", "columns", Rule::Items(EXPLORER_COLUMNS)),
    ("ExplorerQuery", "filters", Rule::Items(FILTERS)),
    ("ExplorerQuery", "search", Rule::Text(SEARCH)),
    ("Selection", "filters", Rule::Items(FILTERS)),
    ("Selection", "search", Rule::Text(SEARCH)),
    ("MergeRequest", "merged_ids", Rule::Items(MERGED)),
    ("BatchRequest", "ids", Rule::Items(BATCH_ROWS)),
    ("MintTransferToken", "ttl_minutes", Rule::Range(TRANSFER_MINUTES)),
    ("PasswordResetRequest", "email", Rule::Email),
    ("Rename", "name", Rule::Text(NAME)),
    ("RoleWrite", "name", Rule::Text(SHORT_NAME)),
    ("RoleWrite", "description", Rule::Text(ROLE_DESCRIPTION)),
    ("RoleWrite", "patterns", Rule::Items(ROLE_PATTERNS)),
    ("RoleWrite", "patterns[]", Rule::Pattern),
    ("RequestAction", "action", Rule::OneOf(PLATFORM_ACTIONS)),
    ("SetupRequest", "email", Rule::Email),
    ("SetupRequest", "name", Rule::Text(NAME)),
    ("SetupRequest", "organization", Rule::Text(NAME)),
    ("SetupRequest", "password", Rule::Secret(PASSWORD)),
    ("StartImpersonation", "reason", Rule::Text(REASON)),
    ("UpdateSettings", "session_ttl_secs", Rule::Range(SESSION_SECS)),
    ("UpdateSettings", "access_token_ttl_secs", Rule::Range(ACCESS_TOKEN_SECS)),
    ("UpdateSettings", "impersonation_minutes", Rule::Range(IMPERSONATION_MINUTES)),
    ("UpdateSettings", "password_min_length", Rule::Range(PASSWORD_MIN_LENGTH)),
    ("UpdateUser", "name", Rule::Text(NAME)),
    ("UpdateUser", "email", Rule::Email),
    ("UpdateUser", "locale", Rule::Text(LOCALE)),
];

/// Lists that name each thing once (`uniqueItems`): a repeat is refused, not folded.
pub const DISTINCT: &[(&str, &str)] = &[("MergeRequest", "merged_ids")];

/// Properties of which a request object takes exactly one (`oneOf` of each required).
pub const EXACTLY_ONE: &[(&str, &[&str])] = &[("BatchRequest", &["ids", "selection"])];

/// Properties of a request object given together or not at all (`dependentRequired` each way).
pub const TOGETHER: &[(&str, &[&str])] = &[("UpdateUser", &["home_workspace_id", "role_id"])];

/// Properties a request object takes for one value of a selecting property only: required
/// with it, refused without it (`if`/`then`/`else`). (schema, selector, value, properties)
pub const ONLY_WHEN: &[(&str, &str, &str, &[&str])] = &[
    ("BulkUsers", "action", "assign_role", &["workspace_id", "role_id"]),
    ("RequestAction", "action", "purge_demo_data", &["customer_id"]),
    ("BatchRequest", "action", "edit", &["set"]),
];

/// Rules of query parameters, by operation id and parameter name.
pub const PARAMETERS: &[(&str, &str, Rule)] = &[
    ("explain_access", "permission", Rule::Leaf),
    ("list_logs", "kind", Rule::Secret(LOG_KIND)),
    ("list_logs", "q", Rule::Secret(LOG_TEXT)),
    ("list_logs", "request_id", Rule::Secret(REQUEST_ID)),
    ("follow_logs", "kind", Rule::Secret(LOG_KIND)),
    ("follow_logs", "q", Rule::Secret(LOG_TEXT)),
    ("follow_logs", "request_id", Rule::Secret(REQUEST_ID)),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_counts_what_is_left_after_trimming_and_what_was_sent() {
        let name = Text::line(3, 6);
        assert!(name.refuse("abc").is_none());
        assert!(name.refuse(" abc  ").is_none());
        assert!(name.refuse("  ab   ").is_some(), "two characters once trimmed");
        assert!(name.refuse(" abcdef").is_some(), "seven as sent");
        assert!(name.refuse("\u{3000}a\u{3000}b\u{3000}").is_none(), "inner white space counts");
        assert!(NAME.refuse("\u{a0}\u{2000}").is_some(), "Unicode white space is not a name");
    }

    #[test]
    fn patterns_say_the_same_in_their_own_words() {
        assert_eq!(Text::line(0, 9).pattern(), r"^[^\u0000-\u001F\u007F-\u009F]*$");
        assert!(Text::line(1, 9).pattern().contains(VISIBLE));
        assert!(Text::lines(3, 9).pattern().contains(&format!("{VISIBLE}[^{CONTROL_BUT_LINES}]{{1,}}{VISIBLE}")));
    }

    #[test]
    fn emails_are_loose_but_not_empty() {
        for ok in ["a@b.co", " Ann@Example.com ", "x.y+z@sub.example.org", "a..b@c.d"] {
            assert_eq!(refuse_email(ok), None, "{ok}");
        }
        for bad in ["", "a", "@b.co", "a@b", "a@.bc", "a@bc.", "a b@c.de", "a@b@c.de", "a@b.c\u{a0}d"] {
            assert!(refuse_email(bad).is_some(), "{bad}");
        }
        assert!(refuse_email(&format!("{}@b.co", "a".repeat(250))).is_some());
    }

    #[test]
    fn closed_sets_are_what_the_catalog_takes() {
        let patterns = Rule::Pattern.values().unwrap();
        assert!(patterns.iter().all(|p| crate::permissions::validate_pattern(p).is_ok()));
        assert!(patterns.iter().any(|p| p == "steward.*"), "{patterns:?}");
        assert!(patterns.len() > Rule::Leaf.values().unwrap().len());
    }

    #[test]
    fn every_rule_names_a_field_once() {
        let mut seen = std::collections::HashSet::new();
        for (schema, field, _) in FIELDS {
            assert!(seen.insert((schema, field)), "{schema}.{field} twice");
        }
    }
}
