//! The tracing layer that hands notable events to the logs: events with a `steward::platform`,
//! `steward::auth` or `steward::system` target go to that log (their `kind` field names the
//! tab), and every other ERROR event goes to the platform log. It only ever calls
//! [`LogSink::emit`], which never waits: a full channel drops and counts the line.

use serde_json::{Map, Value};
use std::sync::{Arc, OnceLock};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::Layer;

use crate::store::logs::{LogLine, LogSink};

/// Targets of the log writer itself: never captured, so a failing write cannot feed itself.
const OWN_TARGET: &str = "steward_backend::store::logs";

/// The layer; [`LogCapture::attach`] gives it the sink once the database is ready (events
/// before that are not captured).
#[derive(Clone, Default)]
pub struct LogCapture {
    sink: Arc<OnceLock<LogSink>>,
}

impl LogCapture {
    pub fn attach(&self, sink: LogSink) {
        let _ = self.sink.set(sink);
    }
}

/// The log an event belongs to, if any.
fn stream_of(target: &str, level: &Level) -> Option<&'static str> {
    match target {
        "steward::platform" => Some("platform"),
        "steward::auth" => Some("auth"),
        "steward::system" => Some("system"),
        _ if *level == Level::ERROR && !target.starts_with(OWN_TARGET) => Some("platform"),
        _ => None,
    }
}

fn level_name(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "error",
        Level::WARN => "warn",
        Level::INFO => "info",
        _ => "debug",
    }
}

/// Names of the kinds a captured event may give; anything else is `event`.
const KINDS: &[&str] = &[
    "startup",
    "periodic",
    "startup_error",
    "package_install",
    "user_task",
    "api_error",
    "error",
    "worker",
    "password_reset",
    "sign_in",
    "sign_in_failed",
    "lockout",
    "sign_out",
];

impl<S: Subscriber> Layer<S> for LogCapture {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        let Some(stream) = stream_of(meta.target(), meta.level()) else { return };
        let Some(sink) = self.sink.get() else { return };
        let mut fields = Fields::default();
        event.record(&mut fields);
        let kind = fields
            .kind
            .as_deref()
            .and_then(|k| KINDS.iter().copied().find(|known| *known == k))
            .unwrap_or(if stream == "platform" && *meta.level() == Level::ERROR { "error" } else { "event" });
        let mut line = LogLine::new(stream, kind, level_name(meta.level()), fields.message.unwrap_or_default());
        line.request_id = fields.request_id;
        line.customer_id = fields.customer_id.and_then(|c| c.parse().ok());
        line.user_id = fields.user_id.and_then(|c| c.parse().ok());
        if !meta.target().starts_with("steward::") {
            fields.rest.insert("target".into(), Value::String(meta.target().into()));
        }
        line.fields = Value::Object(fields.rest);
        sink.emit(line);
    }
}

#[derive(Default)]
struct Fields {
    message: Option<String>,
    kind: Option<String>,
    request_id: Option<String>,
    customer_id: Option<String>,
    user_id: Option<String>,
    rest: Map<String, Value>,
}

impl Fields {
    fn put(&mut self, name: &str, value: Value) {
        let text = || match &value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        match name {
            "message" => self.message = Some(text()),
            "kind" => self.kind = Some(text()),
            "request_id" => self.request_id = Some(text()),
            "customer_id" => self.customer_id = Some(text()),
            "user_id" => self.user_id = Some(text()),
            _ => {
                self.rest.insert(name.to_owned(), value);
            }
        }
    }
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(field.name(), Value::String(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field.name(), Value::String(value.into()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field.name(), Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field.name(), Value::from(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field.name(), Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field.name(), Value::from(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field.name(), Value::String(value.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::layer::SubscriberExt;

    #[test]
    fn steward_targets_and_errors_are_captured_the_rest_is_not() {
        let (sink, mut rx) = LogSink::new(16);
        let capture = LogCapture::default();
        capture.attach(sink.clone());
        let subscriber = tracing_subscriber::registry().with(capture);
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(target: "steward::system", kind = "startup", port = 8080u64, "listening on {}", 8080);
            tracing::info!(target: "hyper", "an ordinary event");
            tracing::error!(target: "sqlx::pool", "a connection failed");
            tracing::warn!(target: "steward::auth", kind = "not-a-kind", request_id = "r-1", "odd");
            tracing::error!(target: "steward_backend::store::logs", "the writer itself failed");
        });
        let lines: Vec<LogLine> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
        let seen: Vec<(&str, &str, &str, &str)> =
            lines.iter().map(|l| (l.stream, l.kind, l.level, l.message.as_str())).collect();
        assert_eq!(
            seen,
            [
                ("system", "startup", "info", "listening on 8080"),
                ("platform", "error", "error", "a connection failed"),
                ("auth", "event", "warn", "odd"),
            ]
        );
        assert_eq!(lines[0].fields["port"], 8080);
        assert_eq!(lines[1].fields["target"], "sqlx::pool");
        assert_eq!(lines[2].request_id.as_deref(), Some("r-1"));
        // A full channel drops and counts, and never blocks the caller.
        let (small, _rx) = LogSink::new(1);
        let capture = LogCapture::default();
        capture.attach(small.clone());
        tracing::subscriber::with_default(tracing_subscriber::registry().with(capture), || {
            for _ in 0..5 {
                tracing::error!("flood");
            }
        });
        assert_eq!(small.dropped.load(std::sync::atomic::Ordering::Relaxed), 4);
    }
}
