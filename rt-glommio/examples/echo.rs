//! The `echo` example application (see `corelay-example-apps`) on glommio.

fn main() -> std::process::ExitCode {
    corelay_example_apps::echo::<corelay_glommio::Glommio>()
}
