//! The `engine_echo` example application (see `corelay-example-apps`) on monoio.

fn main() -> std::process::ExitCode {
    corelay_example_apps::engine_echo::<corelay_monoio::Monoio>()
}
