//! `veribatch bench compare A.json B.json …`: several reports side by side, each
//! throughput with its ratio to the first report's.

use std::fmt::Write as _;
use std::path::PathBuf;

use super::report::{Report, SCHEMA, si};

pub fn load(path: &PathBuf) -> Result<Report, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let report: Report = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not a bench report: {e}", path.display()))?;
    if report.schema != SCHEMA {
        return Err(format!(
            "{} has schema {:?}; this veribatch reads {SCHEMA:?}",
            path.display(),
            report.schema
        ));
    }
    Ok(report)
}

/// A Markdown comparison: a legend naming each report, then per workload a row for each
/// (series, size) measured by any report.
pub fn table(reports: &[(String, Report)]) -> String {
    let mut md = String::from("# veribatch bench comparison\n\n");
    for (i, (label, r)) in reports.iter().enumerate() {
        let _ = writeln!(
            md,
            "- **{}** {label}: {}, {} cores, veribatch {} ({}), {}",
            letter(i),
            r.machine.cpu,
            r.machine.cores,
            r.machine.veribatch_version,
            r.machine.build.profile,
            r.created
        );
    }
    let mut workloads: Vec<(&str, &str, &str)> = Vec::new();
    for (_, r) in reports {
        for w in &r.workloads {
            if !workloads.iter().any(|(name, _, _)| *name == w.name) {
                workloads.push((&w.name, &w.title, &w.item));
            }
        }
    }
    for (name, title, item) in workloads {
        let _ = writeln!(
            md,
            "\n## {title}\n\n{item} per second; in brackets, the ratio to A.\n"
        );
        md.push_str("| series | size |");
        for i in 0..reports.len() {
            let _ = write!(md, " {} |", letter(i));
        }
        md.push_str("\n|---|---:|");
        for _ in reports {
            md.push_str("---:|");
        }
        md.push('\n');
        for (series, size) in rows(reports, name) {
            let _ = write!(md, "| {series} | {size} |");
            let mut base = None;
            for (i, (_, r)) in reports.iter().enumerate() {
                let point = r
                    .workloads
                    .iter()
                    .find(|w| w.name == name)
                    .and_then(|w| w.series.iter().find(|s| s.name == series))
                    .and_then(|s| s.at(size));
                match point {
                    Some(p) => {
                        let _ = write!(md, " {}/s", si(p.items_per_second));
                        match base {
                            None if i == 0 => base = Some(p.items_per_second),
                            Some(b) => {
                                let _ = write!(md, " ({:.2}×)", p.items_per_second / b);
                            }
                            None => {}
                        }
                        md.push_str(" |");
                    }
                    None => md.push_str(" — |"),
                }
            }
            md.push('\n');
        }
    }
    md
}

/// Every (series, size) of a workload in any report, in first-seen series order.
fn rows(reports: &[(String, Report)], workload: &str) -> Vec<(String, u64)> {
    let mut rows: Vec<(String, u64)> = Vec::new();
    for (_, r) in reports {
        for w in r.workloads.iter().filter(|w| w.name == workload) {
            for s in &w.series {
                for p in &s.points {
                    if !rows.iter().any(|(n, size)| *n == s.name && *size == p.size) {
                        rows.push((s.name.clone(), p.size));
                    }
                }
            }
        }
    }
    rows.sort_by(|a, b| {
        let first = |name: &str| rows_order(reports, workload, name);
        first(&a.0).cmp(&first(&b.0)).then(a.1.cmp(&b.1))
    });
    rows
}

/// Where a series first appears, so rows keep the reports' series order.
fn rows_order(reports: &[(String, Report)], workload: &str, series: &str) -> usize {
    reports
        .iter()
        .flat_map(|(_, r)| r.workloads.iter().filter(|w| w.name == workload))
        .flat_map(|w| w.series.iter())
        .position(|s| s.name == series)
        .unwrap_or(usize::MAX)
}

/// A, B, … Z, then 27, 28…
fn letter(i: usize) -> String {
    match u8::try_from(i) {
        Ok(n) if n < 26 => char::from(b'A' + n).to_string(),
        _ => (i + 1).to_string(),
    }
}
