//! Results: records, the terminal (and Markdown) tables with ratios against the peers, the
//! JSON file, the SVG bar charts, and the check of corelay's targets.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::servers::Kind;
use crate::sys::CpuUse;

/// One measured number.
#[derive(Debug, Clone, Serialize)]
pub struct Metric {
    pub name: &'static str,
    pub unit: &'static str,
    pub value: f64,
    pub higher_is_better: bool,
    /// Shown as ratios against the peers.
    pub ratio: bool,
}

impl Metric {
    pub fn high(name: &'static str, unit: &'static str, value: f64, ratio: bool) -> Metric {
        Metric {
            name,
            unit,
            value,
            higher_is_better: true,
            ratio,
        }
    }
    pub fn low(name: &'static str, unit: &'static str, value: f64, ratio: bool) -> Metric {
        Metric {
            name,
            unit,
            value,
            higher_is_better: false,
            ratio,
        }
    }
}

/// The result of one scenario case on one server.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    pub scenario: &'static str,
    pub case: String,
    pub server: String,
    /// The first one is the headline.
    pub metrics: Vec<Metric>,
    /// Messages (or handshakes, or clients) that should have arrived and did not.
    pub lost: Option<u64>,
    /// Connections that failed or dropped.
    pub errors: u64,
    pub cpu: CpuUse,
    /// Every repetition's headline value, when repeated.
    pub reps: Vec<f64>,
    pub note: String,
    /// More numbers of a scenario, in the JSON only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra: Option<serde_json::Value>,
}

impl Record {
    fn metric(&self, name: &str) -> Option<f64> {
        self.metrics
            .iter()
            .find(|m| m.name == name)
            .map(|m| m.value)
    }
}

/// A failure of one scenario on one server, kept in the results.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub scenario: String,
    pub server: String,
    pub error: String,
}

/// 1234567 → "1.23M".
pub fn human(v: f64) -> String {
    if !v.is_finite() {
        return "-".into();
    }
    let a = v.abs();
    if a >= 1e6 {
        format!("{:.2}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.1}k", v / 1e3)
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn value(m: &Metric) -> String {
    match m.unit {
        "/s" => human(m.value),
        "µs" => {
            if m.value.is_finite() {
                format!("{:.0}µs", m.value)
            } else {
                "-".into()
            }
        }
        "B" => format!("{:.0} B", m.value),
        "×" if m.value.is_finite() => format!("{:.2}×", m.value),
        "MiB" => format!("{:.1} MiB", m.value),
        _ if !m.value.is_finite() => "-".into(),
        "µs/bc" => format!("{:.1}µs", m.value),
        "/bc" => format!("{:.2}", m.value),
        "count" => format!("{:.0}", m.value),
        "%" if m.value == 100.0 => "100%".into(),
        "%" => format!("{:.3}%", m.value),
        _ => human(m.value),
    }
}

const PEERS: [Kind; 2] = [Kind::Socketioxide, Kind::Node];

fn short(k: Kind) -> &'static str {
    match k {
        Kind::Socketioxide => "sx",
        Kind::Node => "node",
        _ => k.name(),
    }
}

/// Groups records by (scenario, case), keeping the order they were produced in.
fn groups(records: &[Record]) -> Vec<(String, String, Vec<&Record>)> {
    let mut out: Vec<(String, String, Vec<&Record>)> = Vec::new();
    for r in records {
        match out
            .iter_mut()
            .find(|(s, c, _)| s == r.scenario && *c == r.case)
        {
            Some(g) => g.2.push(r),
            None => out.push((r.scenario.to_owned(), r.case.clone(), vec![r])),
        }
    }
    for g in &mut out {
        g.2.sort_by_key(|r| {
            Kind::parse(&r.server)
                .map_or(9, |k| Kind::ALL.iter().position(|x| *x == k).unwrap_or(9))
        });
    }
    out
}

/// Which side was busy (≥ 90% of the window): the one that limits the measurement.
pub fn bound(c: &CpuUse) -> &'static str {
    let busy = |x: f64| x.is_finite() && x >= 0.9 * c.wall_s;
    match (busy(c.srv_cpu_s), busy(c.gen_cpu_s)) {
        (true, true) => "both",
        (true, false) => "server",
        (false, true) => "GENERATOR",
        (false, false) => "-",
    }
}

fn cpu_cell(cpu_s: f64, wall_s: f64) -> String {
    if !cpu_s.is_finite() {
        return "-".into();
    }
    format!("{:.2}s {:.0}%", cpu_s, 100.0 * cpu_s / wall_s.max(1e-9))
}

/// The rows of one group's table: a header and one row per server.
fn table_rows(rs: &[&Record]) -> Vec<Vec<String>> {
    let first = rs[0];
    let mut head = vec!["server".to_owned()];
    for m in &first.metrics {
        head.push(
            if ["/s", "×", "count"].contains(&m.unit) || m.name.ends_with(m.unit) {
                m.name.to_owned()
            } else {
                format!("{} ({})", m.name, m.unit)
            },
        );
    }
    head.extend([
        "lost".into(),
        "errors".into(),
        "gen cpu".into(),
        "server cpu".into(),
        "other cpu".into(),
        "bound".into(),
    ]);
    let ratio_metrics: Vec<&Metric> = first.metrics.iter().filter(|m| m.ratio).collect();
    for m in &ratio_metrics {
        for p in PEERS {
            head.push(format!("{} ÷{}", m.name, short(p)));
        }
    }
    let mut rows = vec![head];
    for r in rs {
        let mut row = vec![r.server.clone()];
        row.extend(r.metrics.iter().map(value));
        row.push(r.lost.map_or("-".into(), |l| l.to_string()));
        row.push(r.errors.to_string());
        row.push(cpu_cell(r.cpu.gen_cpu_s, r.cpu.wall_s));
        row.push(cpu_cell(r.cpu.srv_cpu_s, r.cpu.wall_s));
        row.push(cpu_cell(r.cpu.other_cpu_s, r.cpu.wall_s));
        row.push(bound(&r.cpu).into());
        let corelay = Kind::parse(&r.server).is_some_and(Kind::is_corelay);
        for m in &ratio_metrics {
            for p in PEERS {
                let peer = rs
                    .iter()
                    .find(|x| x.server == p.name())
                    .and_then(|x| x.metric(m.name));
                let mine = r.metric(m.name);
                row.push(match (corelay, mine, peer) {
                    (true, Some(a), Some(b)) if b > 0.0 && a.is_finite() && b.is_finite() => {
                        format!("{:.2}×", a / b)
                    }
                    _ => "".into(),
                });
            }
        }
        rows.push(row);
    }
    rows
}

fn group_title(scenario: &str, case: &str, rs: &[&Record]) -> String {
    let m = &rs[0].metrics[0];
    let better = if m.higher_is_better {
        "higher is better"
    } else {
        "lower is better"
    };
    format!("{scenario} {case}: {} ({better}); {}", m.name, rs[0].note)
}

/// The tables as plain text for the terminal.
pub fn text_tables(records: &[Record]) -> String {
    let mut out = String::new();
    for (scenario, case, rs) in groups(records) {
        let rows = table_rows(&rs);
        let widths: Vec<usize> = (0..rows[0].len())
            .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
            .collect();
        let _ = writeln!(out, "\n{}", group_title(&scenario, &case, &rs));
        for row in rows {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                let pad = widths[i] - cell.chars().count();
                if i == 0 {
                    let _ = write!(line, "{cell}{}", " ".repeat(pad));
                } else {
                    let _ = write!(line, "  {}{cell}", " ".repeat(pad));
                }
            }
            let _ = writeln!(out, "  {}", line.trim_end());
        }
    }
    out
}

/// Rows measured while other processes used more than 10% of the two CPUs.
pub fn disturbed(records: &[Record]) -> Vec<String> {
    records
        .iter()
        .filter(|r| r.cpu.other_cpu_s > 0.1 * r.cpu.wall_s)
        .map(|r| {
            format!(
                "{} {} on {}: other processes used {:.2}s of CPU in {:.2}s",
                r.scenario, r.case, r.server, r.cpu.other_cpu_s, r.cpu.wall_s
            )
        })
        .collect()
}

/// The tables in Markdown (for the README).
pub fn markdown_tables(records: &[Record]) -> String {
    let mut out = String::new();
    for (scenario, case, rs) in groups(records) {
        let rows = table_rows(&rs);
        let _ = writeln!(out, "\n**{}**\n", group_title(&scenario, &case, &rs));
        for (i, row) in rows.iter().enumerate() {
            let _ = writeln!(out, "| {} |", row.join(" | "));
            if i == 0 {
                let _ = writeln!(out, "|{}", " --- |".repeat(row.len()));
            }
        }
    }
    out
}

/// One target of corelay against a peer, checked for one runtime.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    pub runtime: String,
    pub target: String,
    pub measured: String,
    pub met: bool,
}

fn find<'a>(
    records: &'a [Record],
    scenario: &str,
    case_prefix: &str,
    server: &str,
) -> Vec<&'a Record> {
    records
        .iter()
        .filter(|r| r.scenario == scenario && r.case.starts_with(case_prefix) && r.server == server)
        .collect()
}

/// Checks corelay's targets for every runtime measured.
pub fn targets(records: &[Record]) -> Vec<Target> {
    let mut out = Vec::new();
    let head = |r: &Record| r.metrics[0].value;
    for k in [
        Kind::CorelayTokio,
        Kind::CorelayMonoio,
        Kind::CorelayGlommio,
    ] {
        let me = k.name();
        if !records.iter().any(|r| r.server == me) {
            continue;
        }
        for (n, want) in [(1000usize, 5.0), (10_000, 3.0)] {
            let mine = find(records, "fanout", &format!("n={n} "), me);
            if mine.is_empty() {
                continue;
            }
            let mut parts = Vec::new();
            let mut met = true;
            for r in &mine {
                let peer = find(records, "fanout", &r.case, "socketioxide");
                match peer.first() {
                    Some(p) if head(p) > 0.0 => {
                        let x = head(r) / head(p);
                        met &= x >= want;
                        parts.push(format!("{}: {x:.2}×", r.case));
                    }
                    _ => {
                        met = false;
                        parts.push(format!("{}: no socketioxide result", r.case));
                    }
                }
            }
            out.push(Target {
                runtime: me.into(),
                target: format!("fanout ≥ {want}× socketioxide at {n} clients"),
                measured: parts.join(", "),
                met,
            });
        }
        if let (Some(r), Some(p)) = (
            find(records, "echo", "", me).first(),
            find(records, "echo", "", "socketioxide").first(),
        ) {
            let x = head(r) / head(p);
            let (a, b) = (
                r.metric("p99").unwrap_or(f64::NAN),
                p.metric("p99").unwrap_or(f64::NAN),
            );
            out.push(Target {
                runtime: me.into(),
                target: "echo ≥ 2× socketioxide's acks/s with a lower p99".into(),
                measured: format!("{x:.2}× acks/s, p99 {a:.0}µs vs {b:.0}µs"),
                met: x >= 2.0 && a < b,
            });
        }
        // Not one of issue 4's targets: the guard against a runtime that a second shard
        // makes slower (corelay-tokio once delivered a fanout burst 0.06–0.08× as fast with
        // two shards as with one, while monoio and glommio went faster). The bound leaves
        // room for noise: with the generator sharing both CPUs, a sound runtime measured
        // 1.0–1.6× here, and 1.0× in a run disturbed by other builds.
        if let Some(r) = find(records, "fanout-shards", "", me).first() {
            let ratio = r.metric("÷ 1 shard").unwrap_or(f64::NAN);
            out.push(Target {
                runtime: me.into(),
                target: format!(
                    "fanout-shards: {} ≥ {SHARDS_AT_LEAST}× 1 shard",
                    shards_of(&r.case)
                ),
                measured: format!(
                    "{ratio:.2}× ({}/s vs {}/s)",
                    human(head(r)),
                    human(r.metric("1 shard").unwrap_or(f64::NAN))
                ),
                met: ratio >= SHARDS_AT_LEAST,
            });
        }
        let cluster = find(records, "cluster-fanout", "", me);
        if !cluster.is_empty() {
            let mut parts = Vec::new();
            let mut met = true;
            for r in &cluster {
                let publishes = r.metric("publishes/bc").unwrap_or(f64::NAN);
                let b_lost = r.metric("B lost").unwrap_or(f64::NAN);
                let lost = r.lost.unwrap_or(u64::MAX);
                met &= (publishes - 1.0).abs() < CLUSTER_PUBLISHES_WITHIN
                    && b_lost == 0.0
                    && lost == 0;
                parts.push(format!(
                    "{}: {publishes:.2} publishes/bc, lost {lost} (B {b_lost:.0})",
                    r.case
                ));
            }
            out.push(Target {
                runtime: me.into(),
                target: "cluster-fanout: one PUBLISH per broadcast, every delivery made".into(),
                measured: parts.join(", "),
                met,
            });
        }
        if let Some(r) = find(records, "idle", "", me).first() {
            out.push(Target {
                runtime: me.into(),
                target: "idle ≤ 2 KiB per WebSocket client".into(),
                measured: format!("{:.0} B", head(r)),
                met: head(r) <= 2048.0,
            });
        }
        if let (Some(r), Some(p)) = (
            find(records, "connect", "websocket", me).first(),
            find(records, "connect", "websocket", "node").first(),
        ) {
            let x = head(r) / head(p);
            let poll = match (
                find(records, "connect", "polling", me).first(),
                find(records, "connect", "polling", "node").first(),
            ) {
                (Some(a), Some(b)) => format!(" (polling+upgrade: {:.2}×)", head(a) / head(b)),
                _ => String::new(),
            };
            out.push(Target {
                runtime: me.into(),
                target: "connect ≥ 10× Node's handshakes/s (WebSocket)".into(),
                measured: format!("{x:.2}×{poll}"),
                met: x >= 10.0,
            });
        }
    }
    out
}

/// How far from one PUBLISH (or SPUBLISH) per broadcast the cluster check accepts: one more
/// in 200 broadcasts (a rounding, not a second publish per broadcast).
const CLUSTER_PUBLISHES_WITHIN: f64 = 0.005;

/// The least a fanout with several shards may deliver, relative to one shard, in the check.
const SHARDS_AT_LEAST: f64 = 0.8;

/// "2 shards" from a fanout-shards case (`n=4000 s=64 shards=2`).
fn shards_of(case: &str) -> String {
    let n = case
        .split_whitespace()
        .find_map(|w| w.strip_prefix("shards="))
        .unwrap_or("N");
    format!("{n} shards")
}

pub fn targets_text(ts: &[Target], markdown: bool) -> String {
    let mut out = String::new();
    if markdown {
        out.push_str("\n| runtime | target | measured | met |\n| --- | --- | --- | --- |\n");
    }
    for t in ts {
        let met = if t.met { "MET" } else { "missed" };
        if markdown {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {met} |",
                t.runtime, t.target, t.measured
            );
        } else {
            let _ = writeln!(
                out,
                "  {:<16} {:<52} {:<8} {}",
                t.runtime, t.target, met, t.measured
            );
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// SVG

fn color(server: &str) -> &'static str {
    match server {
        "corelay-tokio" => "#1f77b4",
        "corelay-monoio" => "#2ca02c",
        "corelay-glommio" => "#17becf",
        "socketioxide" => "#ff7f0e",
        "node" => "#d62728",
        _ => "#7f7f7f",
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// One bar: server, value, label.
type Bar = (String, f64, String);

/// A horizontal grouped bar chart: one block (label, bars) per group, one bar per server.
pub fn svg_bars(title: &str, subtitle: &str, groups: &[(String, Vec<Bar>)]) -> String {
    let (left, bar_area, right) = (190.0, 560.0, 90.0);
    let bar_h = 16.0;
    let gap = 4.0;
    let group_gap = 26.0;
    let top = 58.0;
    let max = groups
        .iter()
        .flat_map(|(_, bars)| bars.iter().map(|b| b.1))
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max)
        .max(1e-9);
    let mut height = top;
    for (_, bars) in groups {
        height += group_gap + bars.len() as f64 * (bar_h + gap);
    }
    height += 20.0;
    let width = left + bar_area + right;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="10" y="22" font-size="16" font-weight="bold">{}</text>"#,
        esc(title)
    );
    let _ = writeln!(
        s,
        r##"<text x="10" y="42" fill="#555">{}</text>"##,
        esc(subtitle)
    );
    let mut y = top;
    for (label, bars) in groups {
        y += group_gap;
        let _ = writeln!(
            s,
            r#"<text x="10" y="{}" font-weight="bold">{}</text>"#,
            y - 8.0,
            esc(label)
        );
        for (server, v, text) in bars {
            let w = if v.is_finite() {
                (v / max * bar_area).max(1.0)
            } else {
                0.0
            };
            let _ = writeln!(
                s,
                r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
                left - 8.0,
                y + bar_h - 4.0,
                esc(server)
            );
            let _ = writeln!(
                s,
                r#"<rect x="{left}" y="{y}" width="{w:.1}" height="{bar_h}" fill="{}"/>"#,
                color(server)
            );
            let _ = writeln!(
                s,
                r#"<text x="{:.1}" y="{}">{}</text>"#,
                left + w + 5.0,
                y + bar_h - 4.0,
                esc(text)
            );
            y += bar_h + gap;
        }
    }
    s.push_str("</svg>\n");
    s
}

/// Writes one chart per scenario (headline metric) plus the echo latencies; returns the
/// files written.
pub fn write_charts(dir: &Path, stamp: &str, records: &[Record]) -> std::io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let mut by_scenario: Vec<&str> = Vec::new();
    for r in records {
        if !by_scenario.contains(&r.scenario) {
            by_scenario.push(r.scenario);
        }
    }
    for scenario in by_scenario {
        let gs: Vec<_> = groups(records)
            .into_iter()
            .filter(|g| g.0 == scenario)
            .collect();
        let m = &gs[0].2[0].metrics[0];
        // The headline per case; for fanout-shards also the one-shard figure beside it.
        let mut data: Vec<(String, Vec<Bar>)> = Vec::new();
        for (_, case, rs) in &gs {
            for (i, label) in [(0, ""), (1, " (1 shard)")] {
                if i > 0 && scenario != "fanout-shards" {
                    continue;
                }
                let bars = rs
                    .iter()
                    .filter_map(|r| {
                        let m = r.metrics.get(i)?;
                        Some((r.server.clone(), m.value, value(m)))
                    })
                    .collect();
                data.push((format!("{case}{label}"), bars));
            }
        }
        let better = if m.higher_is_better {
            "higher is better"
        } else {
            "lower is better"
        };
        let placement = match scenario {
            "fanout-shards" => "servers and generator not pinned, sharing every CPU",
            "cluster-fanout" => {
                "both servers of a pair on CPU 0, generator and redis-server on CPU 1"
            }
            _ => "each server on one core (CPU 0), generator on CPU 1",
        };
        let svg = svg_bars(
            &format!("{scenario}: {}", m.name),
            &format!("{better}; {placement}"),
            &data,
        );
        let path = dir.join(format!("{stamp}-{scenario}.svg"));
        std::fs::write(&path, svg)?;
        written.push(path);
        if scenario == "echo" || scenario == "polling" || scenario == "cluster-fanout" {
            let mut data = Vec::new();
            for (_, case, rs) in &gs {
                for q in ["p50", "p99", "p99.9", "B p50", "B p99"] {
                    let bars: Vec<_> = rs
                        .iter()
                        .filter_map(|r| {
                            let m = r.metrics.iter().find(|m| m.name == q)?;
                            Some((r.server.clone(), m.value, value(m)))
                        })
                        .collect();
                    if !bars.is_empty() {
                        data.push((format!("{case} {q}"), bars));
                    }
                }
            }
            let (what, how) = match scenario {
                "cluster-fanout" => (
                    "delivery latency",
                    "lower is better; one broadcast at a time, send to receipt; B: through Redis",
                ),
                _ => (
                    "ack latency",
                    "lower is better; closed loop, one request in flight per client",
                ),
            };
            let svg = svg_bars(&format!("{scenario}: {what}"), how, &data);
            let path = dir.join(format!("{stamp}-{scenario}-latency.svg"));
            std::fs::write(&path, svg)?;
            written.push(path);
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fanout_shards(server: &str, many: f64, one: f64) -> Record {
        Record {
            scenario: "fanout-shards",
            case: "n=4000 s=64 shards=2".into(),
            server: server.into(),
            metrics: vec![
                Metric::high("deliveries/s", "/s", many, true),
                Metric::high("1 shard", "/s", one, false),
                Metric::high("÷ 1 shard", "×", many / one, false),
            ],
            lost: Some(0),
            errors: 0,
            cpu: CpuUse::default(),
            reps: vec![many],
            note: "note".into(),
            extra: None,
        }
    }

    #[test]
    fn fanout_shards_table_shows_both_figures_their_ratio_and_socketioxide() {
        let records = [
            fanout_shards("socketioxide", 1.0e6, 1.5e6),
            fanout_shards("corelay-tokio", 0.12e6, 1.9e6),
        ];
        let rows = table_rows(&groups(&records)[0].2);
        assert_eq!(
            rows[0][..4],
            ["server", "deliveries/s", "1 shard", "÷ 1 shard"].map(String::from)
        );
        // corelay first (Kind::ALL order), its ratio to socketioxide's several-thread figure
        assert_eq!(
            rows[1][..4],
            ["corelay-tokio", "120.0k", "1.90M", "0.06×"].map(String::from)
        );
        assert_eq!(
            rows[1].last().map(String::as_str),
            Some(""),
            "no Node figure"
        );
        assert_eq!(rows[1][rows[1].len() - 2], "0.12×");
        assert_eq!(
            rows[2][..4],
            ["socketioxide", "1.00M", "1.50M", "0.67×"].map(String::from)
        );
    }

    #[test]
    fn a_runtime_slower_with_two_shards_misses_the_check() {
        let records = [
            fanout_shards("corelay-tokio", 0.41e6, 5.2e6),
            fanout_shards("corelay-glommio", 7.6e6, 5.9e6),
        ];
        let t = targets(&records);
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].target, "fanout-shards: 2 shards ≥ 0.8× 1 shard");
        assert_eq!(t[0].measured, "0.08× (410.0k/s vs 5.20M/s)");
        assert!(!t[0].met);
        assert!(t[1].met);
    }

    #[test]
    fn a_ratio_that_is_not_a_number_shows_as_a_dash() {
        let m = Metric::high("÷ 1 shard", "×", f64::NAN, false);
        assert_eq!(value(&m), "-");
    }
}
