"""Delivery of notifications beyond the web (消息推送): SMS gateways, WeCom/DingTalk group robots,
e-mail, or just the log. See senders.py for the interface, outbox.py for queueing and retries."""
