//! Line charts drawn as SVG by Leptos (no JavaScript library): a few series over shared time
//! points, with axis labels, a legend and the value of each point on hover.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

/// One line: its name, colour and a value per point.
#[derive(Clone, PartialEq)]
pub struct Series {
    pub label: &'static str,
    pub color: &'static str,
    pub values: Vec<f64>,
}

const W: f64 = 640.0;
const H: f64 = 200.0;
const LEFT: f64 = 48.0;
const BOTTOM: f64 = 24.0;
const TOP: f64 = 10.0;

/// A round upper bound for the axis: four equal steps of 1, 2, 2.5 or 5 times a power of ten,
/// so every grid line falls on a whole number.
fn nice_max(max: f64) -> f64 {
    let raw = (max / 4.0).max(1.0);
    let magnitude = 10f64.powf(raw.log10().floor());
    let steps: &[f64] = if magnitude >= 10.0 { &[1.0, 2.0, 2.5, 5.0, 10.0] } else { &[1.0, 2.0, 5.0, 10.0] };
    let step = steps.iter().map(|s| s * magnitude).find(|s| *s >= raw).unwrap_or(10.0 * magnitude);
    step * 4.0
}

fn compact(v: f64) -> String {
    match v.abs() {
        a if a >= 1_000_000.0 => format!("{:.1}M", v / 1_000_000.0),
        a if a >= 10_000.0 => format!("{:.0}k", v / 1000.0),
        a if a >= 1000.0 => format!("{:.1}k", v / 1000.0),
        _ => format!("{v:.0}"),
    }
}

/// The index ranges (first, last) of consecutive `true`s.
fn demo_spans(demo: &[bool]) -> Vec<(usize, usize)> {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for (i, _) in demo.iter().enumerate().filter(|(_, d)| **d) {
        match spans.last_mut() {
            Some((_, last)) if *last + 1 == i => *last = i,
            _ => spans.push((i, i)),
        }
    }
    spans
}

#[component]
pub fn LineChart(
    title: &'static str,
    at: Vec<DateTime<Utc>>,
    series: Vec<Series>,
    /// `%H:%M` for hours, `%b %d` for days.
    label_format: &'static str,
    /// Per point: invented (demo data), not measured; those spans are shaded and labelled.
    #[prop(optional)]
    demo: Vec<bool>,
) -> impl IntoView {
    let n = at.len();
    let max = nice_max(series.iter().flat_map(|s| s.values.iter().copied()).fold(0.0, f64::max));
    let x = move |i: usize| LEFT + if n <= 1 { (W - LEFT) / 2.0 } else { (W - LEFT) * i as f64 / (n - 1) as f64 };
    let y = move |v: f64| TOP + (H - TOP - BOTTOM) * (1.0 - v / max);
    let grid = (0..=4)
        .map(|k| {
            let v = max * k as f64 / 4.0;
            view! {
                <line x1=LEFT x2=W y1=y(v) y2=y(v) class="chart-grid"/>
                <text x=LEFT - 6.0 y=y(v) + 4.0 class="chart-axis" text-anchor="end">{compact(v)}</text>
            }
        })
        .collect_view();
    let half = if n <= 1 { (W - LEFT) / 2.0 } else { (W - LEFT) / (n - 1) as f64 / 2.0 };
    let shaded = demo_spans(&demo)
        .into_iter()
        .map(|(first, last)| {
            let (from, to) = ((x(first) - half).max(LEFT), (x(last) + half).min(W));
            view! {
                <rect x=from y=TOP width=to - from height=H - TOP - BOTTOM class="chart-demo"/>
                <text x=from + 4.0 y=TOP + 12.0 class="chart-axis">"demo data"</text>
            }
        })
        .collect_view();
    let ticks = if n == 0 { 0 } else { n.min(6) };
    let labels = (0..ticks)
        .map(|k| {
            let i = if ticks <= 1 { 0 } else { k * (n - 1) / (ticks - 1) };
            let text =
                at.get(i).map(|t| t.with_timezone(&chrono::Local).format(label_format).to_string()).unwrap_or_default();
            let anchor = if ticks > 1 && k == ticks - 1 {
                "end"
            } else if ticks > 1 && k == 0 {
                "start"
            } else {
                "middle"
            };
            view! { <text x=x(i) y=H - 6.0 class="chart-axis" text-anchor=anchor>{text}</text> }
        })
        .collect_view();
    let lines = series
        .iter()
        .map(|s| {
            let points: Vec<String> =
                s.values.iter().enumerate().map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v))).collect();
            let dots = s
                .values
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let when = at
                        .get(i)
                        .map(|t| t.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M").to_string())
                        .unwrap_or_default();
                    view! {
                        <circle cx=x(i) cy=y(*v) r={if n > 60 { 1.5 } else { 2.5 }} fill=s.color>
                            <title>{format!("{} · {}: {}", when, s.label, compact(*v))}</title>
                        </circle>
                    }
                })
                .collect_view();
            view! {
                <polyline points=points.join(" ") fill="none" stroke=s.color stroke-width="2" stroke-linejoin="round"/>
                {dots}
            }
        })
        .collect_view();
    let legend = series
        .iter()
        .map(|s| {
            let last = s.values.last().copied().map(compact).unwrap_or_else(|| "—".into());
            view! {
                <span class="legend-item"><span class="legend-swatch" style=format!("background:{}", s.color)></span>
                    {s.label}" "<strong>{last}</strong></span>
            }
        })
        .collect_view();
    view! {
        <figure class="chart card" aria-label=title>
            <figcaption class="chart-head"><h3>{title}</h3><div class="legend">{legend}</div></figcaption>
            {if n == 0 {
                view! { <p class="empty">"No snapshots in this range yet: the periodic task stores one every few minutes."</p> }.into_any()
            } else {
                view! {
                    <svg viewBox=format!("0 0 {W} {H}") class="chart-svg" role="img" aria-label=title>
                        {shaded}{grid}{labels}{lines}
                    </svg>
                }.into_any()
            }}
        </figure>
    }
}
