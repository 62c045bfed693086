//! The review's charts, drawn here as SVG: no chart library, no external service, nothing
//! fetched. One drawing serves both the printable page (inlined in the HTML) and the web tab
//! (the review's JSON carries the same SVG text; see `review::charts`).
//!
//! The SVG uses presentation attributes only (`fill`, `stroke`), never `style` attributes or
//! elements: the page's Content-Security-Policy allows no inline style, and black on white
//! with dashes prints the same on a monochrome printer. Every text is escaped.

use std::fmt::Write as _;

use crate::register::paper::escape;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 36.0;

/// A line drawn as steps: each value holds until the next point.
pub struct Series<'a> {
    pub label: &'a str,
    /// (seconds from the start, value), oldest first.
    pub points: Vec<(i64, f64)>,
    pub dashed: bool,
}

/// An x position for `seconds` of a run of `span` seconds.
fn x(seconds: i64, span: i64) -> f64 {
    LEFT + (WIDTH - LEFT - RIGHT) * (seconds.max(0) as f64 / span.max(1) as f64)
}

fn y(value: f64, max: f64) -> f64 {
    let inner = HEIGHT - TOP - BOTTOM;
    TOP + inner - inner * (value / max.max(1.0)).clamp(0.0, 1.0)
}

/// "+2h30m", "+45m": an offset as a drill's staff read it.
pub fn offset_label(seconds: i64) -> String {
    let minutes = seconds / 60;
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("+{m}m"),
        (h, 0) => format!("+{h}h"),
        (h, m) => format!("+{h}h{m:02}m"),
    }
}

fn open_svg(out: &mut String, title: &str) {
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" \
         width=\"{WIDTH}\" height=\"{HEIGHT}\" role=\"img\" aria-label=\"{t}\" font-family=\"sans-serif\" font-size=\"11\">\
         <title>{t}</title><rect x=\"0\" y=\"0\" width=\"{WIDTH}\" height=\"{HEIGHT}\" fill=\"#fff\"/>\
         <text x=\"{LEFT}\" y=\"16\" font-size=\"13\" font-weight=\"bold\" fill=\"#000\">{t}</text>",
        t = escape(title)
    );
}

/// Time ticks on a round step (minutes to a day) that gives at most eight of them.
fn time_ticks(span: i64) -> Vec<i64> {
    const STEPS: [i64; 11] = [1, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440];
    let step = STEPS
        .into_iter()
        .map(|m| m * 60)
        .find(|step| span / step <= 8)
        .unwrap_or(1440 * 60);
    (0..=span / step).map(|i| i * step).collect()
}

/// The axes, with the time ticks below and the value ticks on the left.
fn axes(out: &mut String, span: i64, y_max: f64, y_label: &dyn Fn(f64) -> String) {
    let (x0, x1, y0, y1) = (LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM);
    let _ = write!(
        out,
        "<line x1=\"{x0}\" y1=\"{y1}\" x2=\"{x1}\" y2=\"{y1}\" stroke=\"#000\"/>\
         <line x1=\"{x0}\" y1=\"{y0}\" x2=\"{x0}\" y2=\"{y1}\" stroke=\"#000\"/>"
    );
    for i in 0..=4 {
        let value = y_max * f64::from(i) / 4.0;
        let yy = y(value, y_max);
        let _ = write!(
            out,
            "<line x1=\"{x0}\" y1=\"{yy:.1}\" x2=\"{x1}\" y2=\"{yy:.1}\" stroke=\"#ccc\" stroke-width=\"0.5\"/>\
             <text x=\"{tx:.1}\" y=\"{ty:.1}\" text-anchor=\"end\" fill=\"#000\">{label}</text>",
            tx = x0 - 4.0,
            ty = yy + 4.0,
            label = escape(&y_label(value)),
        );
    }
    for seconds in time_ticks(span) {
        let xx = x(seconds, span);
        let _ = write!(
            out,
            "<line x1=\"{xx:.1}\" y1=\"{y1}\" x2=\"{xx:.1}\" y2=\"{ty:.1}\" stroke=\"#000\"/>\
             <text x=\"{xx:.1}\" y=\"{ly:.1}\" text-anchor=\"middle\" fill=\"#000\">{label}</text>",
            ty = y1 + 4.0,
            ly = y1 + 16.0,
            label = escape(&offset_label(seconds)),
        );
    }
}

/// Step lines over the run's `span` seconds, values from 0 to `y_max`, with horizontal
/// guides (e.g. 50 %, 90 %) and a legend.
pub fn steps(
    title: &str,
    span: i64,
    y_max: f64,
    y_label: &dyn Fn(f64) -> String,
    series: &[Series<'_>],
    guides: &[(f64, &str)],
) -> String {
    let mut out = String::new();
    open_svg(&mut out, title);
    axes(&mut out, span, y_max, y_label);
    for (value, label) in guides {
        let yy = y(*value, y_max);
        let _ = write!(
            out,
            "<line x1=\"{LEFT}\" y1=\"{yy:.1}\" x2=\"{x1}\" y2=\"{yy:.1}\" stroke=\"#888\" stroke-dasharray=\"2 3\"/>\
             <text x=\"{tx}\" y=\"{ty:.1}\" text-anchor=\"end\" fill=\"#555\">{label}</text>",
            x1 = WIDTH - RIGHT,
            tx = WIDTH - RIGHT - 2.0,
            ty = yy - 3.0,
            label = escape(label),
        );
    }
    for (i, s) in series.iter().enumerate() {
        let mut path = String::new();
        let mut last: Option<f64> = None;
        for (seconds, value) in &s.points {
            let (xx, yy) = (x(*seconds, span), y(*value, y_max));
            match last {
                None => {
                    let _ = write!(path, "M{xx:.1} {yy:.1}");
                }
                Some(prev) => {
                    let _ = write!(path, " L{xx:.1} {prev:.1} L{xx:.1} {yy:.1}");
                }
            }
            last = Some(yy);
        }
        if let Some(prev) = last {
            // The last value holds to the end of the run.
            let _ = write!(path, " L{:.1} {prev:.1}", x(span, span));
        }
        let dash = if s.dashed {
            " stroke-dasharray=\"6 4\""
        } else {
            ""
        };
        let width = if s.dashed { 1.5 } else { 2.0 };
        if !path.is_empty() {
            let _ = write!(
                out,
                "<path d=\"{path}\" fill=\"none\" stroke=\"#000\" stroke-width=\"{width}\"{dash}/>"
            );
        }
        // The legend, on its own line under the title (a long shelter name fills the first).
        let lx = LEFT + 100.0 * i as f64;
        let _ = write!(
            out,
            "<line x1=\"{lx}\" y1=\"27\" x2=\"{lx2}\" y2=\"27\" stroke=\"#000\" stroke-width=\"{width}\"{dash}/>\
             <text x=\"{tx}\" y=\"31\" fill=\"#000\">{label}</text>",
            lx2 = lx + 18.0,
            tx = lx + 22.0,
            label = escape(s.label),
        );
    }
    out.push_str("</svg>");
    out
}

/// Bars, one per hour from the start (check-ins per hour).
pub fn hourly_bars(title: &str, per_hour: &[i64]) -> String {
    let mut out = String::new();
    open_svg(&mut out, title);
    let max = per_hour.iter().copied().max().unwrap_or(0).max(1);
    // A round top for the scale: 4 ticks of whole numbers.
    let y_max = ((max + 3) / 4 * 4) as f64;
    let span = (per_hour.len().max(1) as i64) * 3600;
    axes(&mut out, span, y_max, &|v| format!("{v:.0}"));
    let slot = (WIDTH - LEFT - RIGHT) / per_hour.len().max(1) as f64;
    for (hour, n) in per_hour.iter().enumerate() {
        if *n == 0 {
            continue;
        }
        let top = y(*n as f64, y_max);
        let _ = write!(
            out,
            "<rect x=\"{bx:.1}\" y=\"{top:.1}\" width=\"{bw:.1}\" height=\"{bh:.1}\" fill=\"#555\"><title>{label}</title></rect>",
            bx = LEFT + slot * hour as f64 + slot * 0.1,
            bw = slot * 0.8,
            bh = HEIGHT - BOTTOM - top,
            label = escape(&format!("{}〜: {n}人", offset_label(hour as i64 * 3600))),
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_read_as_hours_and_minutes() {
        assert_eq!(offset_label(0), "+0m");
        assert_eq!(offset_label(45 * 60), "+45m");
        assert_eq!(offset_label(2 * 3600), "+2h");
        assert_eq!(offset_label(26 * 3600 + 5 * 60), "+26h05m");
    }

    #[test]
    fn time_ticks_fall_on_round_steps() {
        assert_eq!(time_ticks(59), vec![0]);
        assert_eq!(time_ticks(10 * 60), vec![0, 300, 600]);
        assert_eq!(
            time_ticks(2 * 24 * 3600).len(),
            9,
            "every 6 hours over two days"
        );
    }

    #[test]
    fn a_chart_is_self_contained_svg_with_its_text_escaped() {
        let svg = steps(
            "避難所 <A&B>",
            3600,
            10.0,
            &|v| format!("{v:.0}"),
            &[Series {
                label: "定員\"",
                points: vec![(0, 2.0), (1800, 5.0)],
                dashed: false,
            }],
            &[(5.0, "50%")],
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("避難所 &lt;A&amp;B&gt;") && svg.contains("定員&quot;"));
        assert!(!svg.contains("<A&B>"));
        assert!(!svg.contains("style=") && !svg.contains("href") && !svg.contains("<script"));
        // A step: from 2 to 5 at half way, held to the end.
        assert!(svg.contains(" L380.0 "), "{svg}");
        let bars = hourly_bars("受付", &[3, 0, 1]);
        assert_eq!(
            bars.matches("<rect").count(),
            1 + 2,
            "the background and two bars"
        );
    }
}
