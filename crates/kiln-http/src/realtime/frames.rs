//! The bytes of an event stream: SSE frames (`id:`, `event:`, `data:`), several queued messages
//! in one chunk.

use axum::body::Bytes;

use kiln_core::realtime::{Client, Message, BACKLOG_EVENT, CLOSE_EVENT};

pub(super) fn frame(id: &str, event: &str, data: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(id.len() + event.len() + data.len() + 24);
    push_frame(&mut out, id, None, event, data);
    Bytes::from(out)
}

/// Appends one SSE frame; the id is `client` or `client.seq`.
pub(super) fn push_frame(
    out: &mut Vec<u8>,
    client: &str,
    seq: Option<u64>,
    event: &str,
    data: &[u8],
) {
    push_head(out, client, seq, event);
    out.extend_from_slice(data);
    out.extend_from_slice(b"\n\n");
}

/// Appends an SSE frame's lines up to its data (`data:`), which follows, then a blank line.
pub(super) fn push_head(out: &mut Vec<u8>, client: &str, seq: Option<u64>, event: &str) {
    use std::io::Write;
    out.extend_from_slice(b"id:");
    out.extend_from_slice(client.as_bytes());
    if let Some(seq) = seq {
        let _ = write!(out, ".{seq}");
    }
    out.extend_from_slice(b"\nevent:");
    out.extend_from_slice(event.as_bytes());
    out.extend_from_slice(b"\ndata:");
}

/// Messages written in one chunk when a client has several waiting (one socket write for all).
const MAX_BATCH: usize = 64;

/// The next chunk of the stream: the first waiting message and any others already queued (a
/// replay's backlog whole).
pub(super) fn batch(
    client: &Client,
    first: Message,
    rx: &mut tokio::sync::mpsc::Receiver<Message>,
) -> Bytes {
    let id = client.id.as_str();
    let mut out = Vec::with_capacity(first.data.len() + id.len() + first.event.len() + 48);
    let mut m = first;
    for taken in 1..=MAX_BATCH {
        let mut frame = |m: &Message| {
            push_frame(
                &mut out,
                id,
                (m.seq != 0).then_some(m.seq),
                &m.event,
                &m.data,
            )
        };
        if &*m.event == BACKLOG_EVENT {
            client.take_backlog().iter().for_each(frame);
        } else {
            frame(&m);
        }
        if taken == MAX_BATCH {
            break; // the next one stays queued for the next chunk
        }
        match rx.try_recv() {
            // The end of the connection: the frames before it go out, then the stream ends.
            Ok(next) if &*next.event == CLOSE_EVENT => {
                rx.close();
                break;
            }
            Ok(next) => m = next,
            Err(_) => break,
        }
    }
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(event: &str, data: &str, seq: u64) -> Message {
        Message {
            event: event.into(),
            data: data.as_bytes().into(),
            seq,
        }
    }

    #[tokio::test]
    async fn queued_messages_go_out_in_one_chunk_in_order() {
        let (tx, mut rx) = tokio::sync::mpsc::channel(8);
        tx.try_send(msg("posts", "{\"b\":2}", 8)).unwrap();
        tx.try_send(msg("PB_RESET", "{}", 0)).unwrap();
        let (client, _) = kiln_core::realtime::Hub::new().connect();
        let chunk = batch(&client, msg("posts", "{\"a\":1}", 7), &mut rx);
        let cid = &client.id;
        assert_eq!(
            std::str::from_utf8(&chunk).unwrap(),
            format!("id:{cid}.7\nevent:posts\ndata:{{\"a\":1}}\n\nid:{cid}.8\nevent:posts\ndata:{{\"b\":2}}\n\nid:{cid}\nevent:PB_RESET\ndata:{{}}\n\n")
        );
        assert!(rx.try_recv().is_err(), "everything queued was taken");
    }

    #[tokio::test]
    async fn a_full_chunk_leaves_the_next_message_queued() {
        let (tx, mut rx) = tokio::sync::mpsc::channel(2 * MAX_BATCH);
        for seq in 2..=(MAX_BATCH as u64 + 1) {
            tx.try_send(msg("posts", "{}", seq)).unwrap();
        }
        let (client, _) = kiln_core::realtime::Hub::new().connect();
        let chunk = batch(&client, msg("posts", "{}", 1), &mut rx);
        let text = std::str::from_utf8(&chunk).unwrap();
        assert_eq!(text.matches("event:posts").count(), MAX_BATCH);
        assert_eq!(rx.try_recv().unwrap().seq, MAX_BATCH as u64 + 1);
    }
}
