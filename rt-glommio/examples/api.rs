//! The `api` example application (see `corelay-example-apps`) on glommio.

fn main() -> std::process::ExitCode {
    corelay_example_apps::api::<corelay_glommio::Glommio>()
}
