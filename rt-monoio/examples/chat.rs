//! The README's demo: a small chat server on monoio. Open http://127.0.0.1:3000/ in two tabs.

fn main() {
    let (flags, app) = corelay_examples::chat_from_args();
    corelay_monoio::serve_example(
        app,
        flags.addr(),
        flags.shards,
        corelay_examples::announce_and_wait,
    );
}
