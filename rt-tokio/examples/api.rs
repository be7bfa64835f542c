//! The `api` example application (see `corelay-example-apps`) on tokio.

fn main() -> std::process::ExitCode {
    corelay_example_apps::api::<corelay_tokio::Tokio>()
}
