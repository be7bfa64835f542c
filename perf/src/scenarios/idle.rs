//! idle: the server's resident memory per connected WebSocket client.

use std::time::{Duration, Instant};

use super::{cpu_text, progress, record, start, Params};
use crate::gen::{Idle, Ramp};
use crate::report::{Metric, Record};
use crate::servers::{Kind, Placement, Setup};

pub fn idle(setup: &Setup, p: &Params, kind: Kind) -> Result<Vec<Record>, String> {
    let (mut server, mut pool) = start(setup, kind, Placement::Pinned)?;
    // One client in and out first, so lazy one-time allocations are not billed per client.
    let mut warm = Ramp::new(1, 1);
    warm.run(&mut pool, Duration::from_secs(10));
    pool.close_all();
    pool.run(
        &mut Idle::default(),
        Instant::now() + Duration::from_millis(500),
    );
    let before = server.rss().ok_or("no VmRSS")?;
    let mark = server.mark();
    let mut ramp = Ramp::new(p.idle_clients, p.ramp_in_flight);
    let took = ramp.run(&mut pool, Duration::from_secs(120));
    let cpu = mark.since();
    let mut idle = Idle::default();
    pool.run(&mut idle, Instant::now() + Duration::from_secs(2));
    let after = server.rss().ok_or("no VmRSS")?;
    if !server.alive() {
        return Err(format!("{} died: {}", kind.name(), server.stderr()));
    }
    let connected = pool.ready_ids().len();
    let per = (after as f64 - before as f64) / connected.max(1) as f64;
    progress(&format!(
        "  {} idle: {connected} clients in {:.1}s, RSS {:.1} MiB -> {:.1} MiB: {:.0} B per client; {}",
        kind.name(),
        took.as_secs_f64(),
        before as f64 / 1048576.0,
        after as f64 / 1048576.0,
        per,
        cpu_text(&cpu)
    ));
    let mut r = record(
        "idle",
        format!("n={}", p.idle_clients),
        kind,
        vec![
            Metric::low("bytes/client", "B", per, true),
            Metric::high("rss_before", "MiB", before as f64 / 1048576.0, false),
            Metric::high("rss_after", "MiB", after as f64 / 1048576.0, false),
            Metric::high(
                "connect rate",
                "/s",
                connected as f64 / took.as_secs_f64(),
                false,
            ),
        ],
        cpu,
    );
    r.errors = (ramp.failed + idle.lost) as u64;
    r.lost = Some((p.idle_clients - connected) as u64);
    r.note = "WebSocket clients joined to /, VmRSS 2 s after the last joined".into();
    pool.close_all();
    drop(server);
    Ok(vec![r])
}
