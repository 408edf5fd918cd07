//! `weft collect`: flags → collector configuration → serve until Ctrl-C or SIGTERM → exit 0.

use crate::cli::CollectArgs;
use crate::error::{CliError, Verdict};

/// What this subcommand's messages start with.
const COMMAND: &str = "weft collect";

async fn stop_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// Says on stderr when the store starts or stops refusing writes (disk full, a failed repair),
/// so the operator watching the collector sees it without polling /v1/status. Never returns.
async fn report_health(c: &weft_collector::Collector) {
    let mut last = weft_collector::store::Health::Ok;
    loop {
        let now = c.store_health();
        if now != last {
            match &now {
                weft_collector::store::Health::Ok => {
                    eprintln!("weft collect: writing again: the store takes writes")
                }
                h => eprintln!("weft collect: {}", h.describe()),
            }
            last = now;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

fn timeouts(a: &CollectArgs) -> Result<weft_collector::net::Timeouts, String> {
    let d = |flag: &'static str, s: &str| {
        weft_sim::config::parse_duration(flag, s)
            .map(std::time::Duration::from_nanos)
            .map_err(|e| e.to_string())
    };
    Ok(weft_collector::net::Timeouts {
        header: d("--header-timeout", &a.header_timeout)?,
        body: d("--body-timeout", &a.body_timeout)?,
        body_min_rate: a.body_min_rate,
        idle: d("--idle-timeout", &a.idle_timeout)?,
        grace: d("--shutdown-grace", &a.shutdown_grace)?,
    })
}

pub fn run(a: &CollectArgs) -> Result<Verdict, CliError> {
    let timeouts = timeouts(a).map_err(|e| CliError::input(COMMAND, e))?;
    let grace = timeouts.grace;
    let cfg = config(a, timeouts);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::input(COMMAND, format_args!("cannot start the runtime: {e}")))?;
    rt.block_on(async {
        let c = weft_collector::start(cfg)
            .await
            .map_err(|e| CliError::input(COMMAND, e))?;
        let r = &c.recovery;
        if r.truncated_bytes > 0 {
            eprintln!(
                "weft collect: recovered {}: {} events kept, a torn tail of {} bytes ({} lines) cut",
                a.data.display(),
                r.events,
                r.truncated_bytes,
                r.truncated_lines
            );
        }
        eprintln!(
            "weft collect: {} events in {}; listening on {}://{}{}",
            r.events,
            a.data.display(),
            if a.tls_cert.is_some() { "https" } else { "http" },
            c.http_addr,
            c.grpc_addr.map_or(String::new(), |g| format!(" and grpc://{g}"))
        );
        tokio::select! {
            _ = stop_signal() => {}
            _ = report_health(&c) => {}
        }
        eprintln!(
            "weft collect: stopping: finishing in-flight requests (for {} s at most)",
            grace.as_secs_f64()
        );
        c.shutdown()
            .await
            .map_err(|e| CliError::failed(COMMAND, e))?;
        eprintln!("weft collect: stopped; every acknowledged event is on disk");
        Ok(Verdict::Pass)
    })
}

/// The collector's configuration the flags describe.
fn config(a: &CollectArgs, timeouts: weft_collector::net::Timeouts) -> weft_collector::Config {
    weft_collector::Config {
        listen: a.listen,
        grpc: (!a.no_grpc).then_some(a.grpc),
        data: a.data.clone(),
        token: a.token.clone(),
        insecure: a.insecure,
        max_body: a.max_body,
        max_otlp_body: a.max_otlp_body,
        max_line: a.max_line,
        queue: a.queue,
        max_connections: a.max_connections,
        max_connections_per_ip: a.max_connections_per_ip,
        timeouts,
        segment_bytes: a.segment_bytes,
        tls: a.tls_cert.clone().zip(a.tls_key.clone()),
        analysis: !a.no_analysis,
        io: None,
    }
}
