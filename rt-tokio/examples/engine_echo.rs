//! The `engine_echo` example application (see `corelay-example-apps`) on tokio.

fn main() -> std::process::ExitCode {
    corelay_example_apps::engine_echo::<corelay_tokio::Tokio>()
}
