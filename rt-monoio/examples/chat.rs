//! The README's demo, a small chat server, on monoio. Open http://127.0.0.1:3000/ in two tabs.

fn main() -> std::process::ExitCode {
    corelay_example_apps::chat::<corelay_monoio::Monoio>()
}
