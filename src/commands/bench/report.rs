//! The bench report: its JSON form (schema in docs/BENCH-REPORT.md) and its Markdown
//! tables.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::machine::Machine;

/// Names the schema of report.json; bumped on any incompatible change.
pub const SCHEMA: &str = "veribatch-bench/1";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    pub schema: String,
    /// When the run started, UTC, RFC 3339.
    pub created: String,
    /// Whether the sweeps were the short ones of `--quick`.
    pub quick: bool,
    /// Whether Ctrl-C stopped the run before every point was measured.
    pub interrupted: bool,
    pub machine: Machine,
    pub workloads: Vec<Workload>,
}

/// One workload's sweep: a series per implementation measured.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Workload {
    /// The `--workload` name, e.g. `bls-distinct`.
    pub name: String,
    pub title: String,
    /// What a point's size counts, e.g. "signature sets" or "committee size".
    pub size: String,
    /// What one item is, for throughput: "sets", "verifications", "chunks"…
    pub item: String,
    /// The name of the anchor series the ratios are to.
    pub anchor: String,
    pub series: Vec<Series>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Series {
    pub name: String,
    /// The veribatch backend measured, or `None` for an anchor outside veribatch.
    pub backend: Option<String>,
    pub points: Vec<Point>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Point {
    pub size: u64,
    /// Items one iteration processes.
    pub items: u64,
    /// Iterations timed (after one untimed run that also checks the result).
    pub iterations: u32,
    /// The median time of one iteration.
    pub seconds: f64,
    pub items_per_second: f64,
    pub seconds_per_item: f64,
    /// The anchor's time over this series' time at the same size: above 1 is faster
    /// than the anchor. `None` where the anchor has no point of this size.
    pub ratio_to_anchor: Option<f64>,
    /// The peak resident memory of the process measured, in bytes, for workloads that
    /// run veribatch as its own process (`bls-file`); absent for the others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_resident_bytes: Option<u64>,
}

impl Workload {
    pub fn series_mut(&mut self, name: &str, backend: Option<&str>) -> &mut Series {
        let at = match self.series.iter().position(|s| s.name == name) {
            Some(at) => at,
            None => {
                self.series.push(Series {
                    name: name.to_string(),
                    backend: backend.map(str::to_string),
                    points: Vec::new(),
                });
                self.series.len() - 1
            }
        };
        &mut self.series[at]
    }

    /// Fills in every point's ratio to the anchor point of the same size.
    pub fn set_ratios(&mut self) {
        let anchor: Vec<(u64, f64)> = self
            .series
            .iter()
            .find(|s| s.name == self.anchor)
            .map(|s| {
                s.points
                    .iter()
                    .map(|p| (p.size, p.seconds_per_item))
                    .collect()
            })
            .unwrap_or_default();
        for series in &mut self.series {
            for point in &mut series.points {
                point.ratio_to_anchor = anchor
                    .iter()
                    .find(|(size, _)| *size == point.size)
                    .map(|(_, anchor_time)| anchor_time / point.seconds_per_item);
            }
        }
    }

    /// Every size any series measured, ascending.
    pub fn sizes(&self) -> Vec<u64> {
        let mut sizes: Vec<u64> = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.size))
            .collect();
        sizes.sort_unstable();
        sizes.dedup();
        sizes
    }
}

impl Series {
    pub fn at(&self, size: u64) -> Option<&Point> {
        self.points.iter().find(|p| p.size == size)
    }
}

/// 1234567.0 → "1.23M".
pub fn si(value: f64) -> String {
    let (scaled, suffix) = match value {
        v if v >= 1e9 => (v / 1e9, "G"),
        v if v >= 1e6 => (v / 1e6, "M"),
        v if v >= 1e3 => (v / 1e3, "K"),
        v => (v, ""),
    };
    format!("{scaled:.3}{suffix}")
}

/// A time in the unit that keeps it readable.
pub fn duration(seconds: f64) -> String {
    match seconds {
        s if s >= 1.0 => format!("{s:.3} s"),
        s if s >= 1e-3 => format!("{:.3} ms", s * 1e3),
        s if s >= 1e-6 => format!("{:.3} µs", s * 1e6),
        s => format!("{:.1} ns", s * 1e9),
    }
}

impl Report {
    /// report.md: the machine, then one table and plot per workload.
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let kind = if self.quick { "quick" } else { "full" };
        let _ = writeln!(md, "# veribatch bench report\n");
        let _ = writeln!(
            md,
            "Created {} ({kind} sweeps{}). Throughput in items per second, the median of \
             the timed iterations; the ratio in brackets is the anchor's time over this \
             series' time, so above 1 is faster than the anchor.\n",
            self.created,
            if self.interrupted {
                "; interrupted, so some points are missing"
            } else {
                ""
            }
        );
        md.push_str(&self.machine.markdown());
        for w in &self.workloads {
            let _ = writeln!(md, "\n## {}\n", w.title);
            let _ = writeln!(
                md,
                "{} per second and time per item; anchor: {}.\n",
                capitalised(&w.item),
                w.anchor
            );
            let _ = write!(md, "| {} |", w.size);
            for s in &w.series {
                let _ = write!(md, " {} |", s.name);
            }
            let _ = write!(md, "\n|---:|");
            for _ in &w.series {
                md.push_str("---:|");
            }
            md.push('\n');
            for size in w.sizes() {
                let _ = write!(md, "| {size} |");
                for s in &w.series {
                    match s.at(size) {
                        Some(p) => {
                            let _ = write!(
                                md,
                                " {}/s, {}",
                                si(p.items_per_second),
                                duration(p.seconds_per_item)
                            );
                            if let (Some(r), false) = (p.ratio_to_anchor, s.name == w.anchor) {
                                let _ = write!(md, " ({r:.2}×)");
                            }
                            if let Some(bytes) = p.peak_resident_bytes {
                                let _ = write!(md, ", {} MiB peak", bytes >> 20);
                            }
                            md.push_str(" |");
                        }
                        None => md.push_str(" — |"),
                    }
                }
                md.push('\n');
            }
            if !w.series.is_empty() {
                let _ = writeln!(md, "\n![{}]({}.svg)", w.title, w.name);
            }
        }
        md
    }
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Now, UTC, as RFC 3339 (to the second), without a date library.
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_readably() {
        assert_eq!(si(1_234_567.0), "1.235M");
        assert_eq!(si(12.0), "12.000");
        assert_eq!(duration(0.0025), "2.500 ms");
        assert_eq!(duration(2.0), "2.000 s");
    }

    #[test]
    fn the_date_is_rfc3339() {
        let now = now_rfc3339();
        assert_eq!(now.len(), 20, "{now}");
        assert!(now.starts_with("20") && now.ends_with('Z'), "{now}");
        assert_eq!(&now[4..5], "-");
        assert_eq!(&now[10..11], "T");
    }
}
