//! The `echo` example application (see `corelay-example-apps`) on monoio.

fn main() -> std::process::ExitCode {
    corelay_example_apps::echo::<corelay_monoio::Monoio>()
}
