//! `weft collect`: flags → collector configuration → serve until Ctrl-C or SIGTERM → exit 0.

use std::process::ExitCode;

use crate::cli::CollectArgs;

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

pub fn run(a: &CollectArgs) -> ExitCode {
    let timeouts = match timeouts(a) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("weft collect: {e}");
            return ExitCode::from(2);
        }
    };
    let cfg = weft_collector::Config {
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
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("weft collect: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    rt.block_on(async {
        let c = match weft_collector::start(cfg).await {
            Ok(c) => c,
            Err(e) => {
                eprintln!("weft collect: {e}");
                return ExitCode::from(2);
            }
        };
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
            timeouts.grace.as_secs_f64()
        );
        match c.shutdown().await {
            Ok(()) => {
                eprintln!("weft collect: stopped; every acknowledged event is on disk");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("weft collect: {e}");
                ExitCode::from(1)
            }
        }
    })
}
