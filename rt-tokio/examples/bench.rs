//! The `bench` example application (see `corelay-example-apps`) on tokio.

fn main() -> std::process::ExitCode {
    corelay_example_apps::bench::<corelay_tokio::Tokio>()
}
