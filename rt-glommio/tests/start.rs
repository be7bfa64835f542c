//! Starting, serving and stopping a server (needs io_uring and `ulimit -l` of 512 KiB or more).

use std::io::{Read, Write};
use std::net::TcpStream;

use corelay_glommio::{App, Server};

#[test]
fn port_zero_pinned_shards_serve_and_stop() {
    let app = App::builder().namespace("/", |ns| ns).build();
    let server = Server::builder(app)
        .bind("127.0.0.1:0".parse().unwrap())
        .shards(2)
        .pin_cores(true)
        .start()
        .expect("start (is `ulimit -l` at least 512?)");
    let addr = server.local_addr();
    assert_ne!(addr.port(), 0);
    for _ in 0..4 {
        let mut tcp = TcpStream::connect(addr).unwrap();
        let req = "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        tcp.write_all(req.as_bytes()).unwrap();
        let mut answer = String::new();
        tcp.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.contains("\"sid\":"), "{answer}");
    }
    let _io = server.io();
    let handle = server.shutdown_handle();
    std::thread::spawn(move || handle.shutdown())
        .join()
        .unwrap();
    server.wait();
    // io_uring releases the listening sockets when the kernel tears the rings down, shortly
    // after the shard threads end.
    let t0 = std::time::Instant::now();
    while TcpStream::connect(addr).is_ok() {
        assert!(
            t0.elapsed() < std::time::Duration::from_secs(1),
            "still listening"
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}
