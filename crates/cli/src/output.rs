//! Output for people (aligned tables, long cells cut with an ellipsis) and for scripts (`--json`).

use comfy_table::presets::NOTHING;
use comfy_table::{ContentArrangement, Table};
use serde::Serialize;

/// Cuts a cell to `max` characters, ending in `…`.
pub fn cut(value: &str, max: usize) -> String {
    if value.chars().count() <= max {
        value.to_owned()
    } else {
        let mut s: String = value.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

/// A date and time in UTC, to the minute; `—` when absent.
pub fn when(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_else(|| "—".into())
}

/// Prints `rows` under `headers`, aligned to the terminal's width.
pub fn table(headers: &[&str], rows: Vec<Vec<String>>) {
    if rows.is_empty() {
        println!("(none)");
        return;
    }
    let mut t = Table::new();
    t.load_preset(NOTHING).set_content_arrangement(ContentArrangement::Dynamic).set_header(headers.to_vec());
    if let Some((w, _)) = terminal_width() {
        t.set_width(w);
    }
    for r in rows {
        t.add_row(r.into_iter().map(|c| cut(&c, 48)).collect::<Vec<_>>());
    }
    println!("{t}");
}

fn terminal_width() -> Option<(u16, u16)> {
    std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).map(|w| (w, 0))
}

/// Key/value lines for one record.
pub fn facts(rows: &[(&str, String)]) {
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in rows {
        println!("{k:<width$}  {v}");
    }
}

/// Pretty JSON on stdout.
pub fn json<T: Serialize>(value: &T) {
    println!("{}", serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into()));
}
