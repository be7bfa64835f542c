//! socketioxide-redis's `RedisDriver` (0.4.4, `src/drivers/redis.rs`) with one setting of its
//! own: the response timeout of the multiplexed Redis connection. The crate's driver keeps
//! redis-rs's default of 500 ms, and under a burst of broadcasts (the current-thread runtime
//! busy writing the local deliveries while the PUBLISH answers wait) publishes time out and the
//! adapter drops those broadcasts, locally too ("Adapter error: driver error: timed out").
//! Everything else is the crate's driver: RESP3 push messages routed to one bounded channel per
//! subscribed channel, PUBLISH/SUBSCRIBE/UNSUBSCRIBE, `PUBSUB NUMSUB` for the server count. A
//! message that does not fit its channel is dropped, as the crate's driver does (counted on
//! stderr here; the crate logs it with `tracing`).

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use socketioxide_redis::drivers::redis::redis_client as redis;
use socketioxide_redis::drivers::{ChanItem, Driver, MessageStream};
use tokio::sync::mpsc;

use redis::aio::MultiplexedConnection;
use redis::{AsyncCommands, FromRedisValue, PushInfo, PushKind};

type Handlers = Arc<RwLock<HashMap<String, mpsc::Sender<ChanItem>>>>;

/// The pub/sub driver of the adapter.
#[derive(Clone)]
pub struct BenchDriver {
    handlers: Handlers,
    conn: MultiplexedConnection,
}

impl BenchDriver {
    /// One multiplexed RESP3 connection of `client`; `response_timeout`: `None` waits for every
    /// answer.
    pub async fn new(
        client: &redis::Client,
        response_timeout: Option<Duration>,
    ) -> redis::RedisResult<BenchDriver> {
        let handlers = Handlers::default();
        let routes = handlers.clone();
        let config = redis::AsyncConnectionConfig::new()
            .set_response_timeout(response_timeout)
            .set_push_sender(move |msg: PushInfo| {
                route(msg, &routes);
                Ok::<(), Infallible>(())
            });
        let conn = client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        Ok(BenchDriver { handlers, conn })
    }
}

/// Hands a published message to the stream of its channel.
fn route(msg: PushInfo, handlers: &Handlers) {
    if !matches!(msg.kind, PushKind::Message | PushKind::SMessage) || msg.data.len() < 2 {
        return;
    }
    let mut data = msg.data.into_iter();
    let (Some(chan), Some(body)) = (data.next(), data.next()) else {
        return;
    };
    let (Ok(chan), Ok(body)) = (
        String::from_redis_value(chan),
        Vec::<u8>::from_redis_value(body),
    ) else {
        eprintln!("redis: a message that is not a channel and bytes");
        return;
    };
    let handlers = handlers.read().expect("handlers");
    let Some(tx) = handlers.get(&chan) else {
        return;
    };
    if tx.try_send((chan, body)).is_err() {
        static DROPPED: AtomicU64 = AtomicU64::new(0);
        let n = DROPPED.fetch_add(1, Ordering::Relaxed) + 1;
        if n <= 3 || n.is_multiple_of(1000) {
            eprintln!("redis pubsub channel full: {n} message(s) dropped so far");
        }
    }
}

impl Driver for BenchDriver {
    type Error = redis::RedisError;

    async fn publish(&self, chan: String, val: Vec<u8>) -> Result<(), Self::Error> {
        self.conn
            .clone()
            .publish::<_, _, redis::Value>(chan, val)
            .await?;
        Ok(())
    }

    async fn subscribe(
        &self,
        chan: String,
        size: usize,
    ) -> Result<MessageStream<ChanItem>, Self::Error> {
        self.conn.clone().subscribe(chan.as_str()).await?;
        let (tx, rx) = mpsc::channel(size);
        self.handlers.write().expect("handlers").insert(chan, tx);
        Ok(MessageStream::new(rx))
    }

    async fn unsubscribe(&self, chan: String) -> Result<(), Self::Error> {
        self.handlers.write().expect("handlers").remove(&chan);
        self.conn.clone().unsubscribe(chan).await?;
        Ok(())
    }

    async fn num_serv(&self, chan: &str) -> Result<u16, Self::Error> {
        let mut conn = self.conn.clone();
        let (_, count): (String, u16) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(chan)
            .query_async(&mut conn)
            .await?;
        Ok(count)
    }
}
