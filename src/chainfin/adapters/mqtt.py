"""MQTT with paho-mqtt 2 (callback API version 2): a listener that subscribes with QoS 1,
reconnects on its own and hands every message to a handler, and a publisher for the demo
and the tests. Works with any MQTT 3.1.1 or 5 broker (Mosquitto, EMQX, HiveMQ, cloud IoT
hubs).

Delivery is at least once: the listener acknowledges a message (manual ack, the PUBACK)
only after the handler has returned — for chainfin's handler, after the message's
transaction has committed — so a message the process did not finish is delivered again; the
handler deduplicates by device and sequence number. A handler whose work did not commit
raises :class:`Redeliver`: the message is left unacknowledged and the listener drops its
connection, so the broker delivers it again when paho reconnects (with a fixed client id,
i.e. a persistent session; a clean session loses it, unacknowledged). The listener never
dies of a message: anything else the handler raises is counted, logged and acknowledged, so
a message no handler can take does not block the ones behind it.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.reasoncodes import ReasonCode

log = logging.getLogger("chainfin.mqtt")

Handler = Callable[[str, bytes], object]


class Redeliver(Exception):
    """Raised by a handler when its work did not commit: the listener must not acknowledge
    the message, so the broker delivers it again."""


@dataclass(frozen=True)
class Broker:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> Broker:
        """``mqtt://[user:password@]host[:1883]`` or ``mqtts://…[:8883]`` (TLS)."""
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
            raise ValueError(f"{url!r}: the scheme must be mqtt:// or mqtts://")
        if not parts.hostname:
            raise ValueError(f"{url!r} names no host")
        tls = parts.scheme in ("mqtts", "ssl")
        try:
            port = parts.port or (8883 if tls else 1883)
        except ValueError:
            raise ValueError(f"{url!r}: the port is not a number from 1 to 65535") from None
        return cls(
            host=parts.hostname,
            port=port,
            tls=tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    def client(self, client_id: str, *, clean: bool = True, manual_ack: bool = False) -> Any:
        c = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=clean,
            protocol=MQTTProtocolVersion.MQTTv311,
            manual_ack=manual_ack,
        )
        if self.username is not None:
            c.username_pw_set(self.username, self.password)
        if self.tls:
            c.tls_set(cert_reqs=ssl.CERT_REQUIRED)
        c.reconnect_delay_set(min_delay=1, max_delay=30)
        return c


def _failed(reason_code: ReasonCode | int) -> bool:
    if isinstance(reason_code, ReasonCode):
        return bool(reason_code.is_failure)
    return reason_code != 0


class Listener:
    """Subscribes to ``topic`` (re-subscribing after every reconnect) and calls ``handle``
    (topic, payload) for each message from paho's network thread, one at a time.

    A fixed ``client_id`` gets a persistent session: the broker keeps QoS 1 messages for
    the listener while it is away and delivers them when it comes back (they arrive
    late, and are counted so)."""

    def __init__(
        self,
        url: str,
        topic: str,
        handle: Handler,
        *,
        client_id: str | None = None,
        qos: int = 1,
        keepalive: int = 30,
    ) -> None:
        self.broker = Broker.parse(url)
        self.topic = topic
        self.handle = handle
        self.qos = qos
        self.keepalive = keepalive
        self.client_id = client_id or f"chainfin-listen-{uuid.uuid4().hex[:12]}"
        self.connects = 0
        self.disconnects = 0
        self.handler_errors = 0
        self.unacknowledged = 0
        self.messages = 0
        self._subscribed = threading.Event()
        self._client = self.broker.client(self.client_id, clean=client_id is None, manual_ack=True)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message

    # paho callbacks (VERSION2 signatures)

    def _on_connect(
        self, client: Any, userdata: Any, flags: Any, reason_code: Any, properties: Any
    ) -> None:
        if _failed(reason_code):
            log.warning("MQTT connect to %s refused: %s", self.broker.host, reason_code)
            return
        self.connects += 1
        log.info("MQTT connected to %s:%s", self.broker.host, self.broker.port)
        client.subscribe(self.topic, qos=self.qos)

    def _on_subscribe(
        self, client: Any, userdata: Any, mid: int, reason_codes: Any, properties: Any
    ) -> None:
        if any(_failed(rc) for rc in reason_codes):
            log.error("MQTT subscription to %s refused: %s", self.topic, reason_codes)
            return
        self._subscribed.set()

    def _on_disconnect(
        self, client: Any, userdata: Any, flags: Any, reason_code: Any, properties: Any
    ) -> None:
        self._subscribed.clear()
        self.disconnects += 1
        if _failed(reason_code):
            log.warning("MQTT connection lost (%s); reconnecting", reason_code)

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        self.messages += 1
        try:
            self.handle(msg.topic, bytes(msg.payload))
        except Redeliver as exc:
            self.unacknowledged += 1
            log.warning(
                "message %s from %s not committed (%s): not acknowledged; reconnecting so "
                "the broker delivers it again",
                msg.mid,
                msg.topic,
                exc,
            )
            self._drop_connection(client)
            return
        except Exception:
            self.handler_errors += 1
            log.exception("handler failed on a message from %s", msg.topic)
        try:
            client.ack(msg.mid, msg.qos)
        except Exception:  # noqa: BLE001 - the connection is gone: the broker redelivers
            log.warning("could not acknowledge message %s", msg.mid)

    @staticmethod
    def _drop_connection(client: Any) -> None:
        """Close the connection under paho (we are on its network thread) as a network
        failure would: paho then reconnects with its backoff, and the broker resends every
        message of the session that was not acknowledged. MQTT resends only on a new
        connection; staying connected would leave the message, and the in-flight slot it
        holds, stuck until then."""
        sock = client.socket()
        if sock is None:
            return
        with contextlib.suppress(OSError):  # already gone
            sock.shutdown(socket.SHUT_RDWR)

    # control

    def start(self) -> None:
        """Connect in the background (retrying while the broker is unreachable)."""
        self._client.connect_async(self.broker.host, self.broker.port, keepalive=self.keepalive)
        self._client.loop_start()

    def wait_ready(self, timeout: float = 10.0) -> bool:
        """Wait until the subscription is acknowledged."""
        return self._subscribed.wait(timeout)

    @property
    def ready(self) -> bool:
        return self._subscribed.is_set()

    def stop(self) -> None:
        try:
            self._client.disconnect()
        finally:
            self._client.loop_stop()


def publish(
    url: str,
    messages: Iterable[tuple[str, bytes]],
    *,
    qos: int = 1,
    timeout: float = 10.0,
    client_id: str | None = None,
) -> int:
    """Publish (topic, payload) pairs in order, each acknowledged by the broker (QoS 1)
    before the next is sent; returns how many were published."""
    broker = Broker.parse(url)
    client = broker.client(client_id or f"chainfin-pub-{uuid.uuid4().hex[:12]}")
    connected = threading.Event()
    client.on_connect = lambda c, u, f, rc, p: None if _failed(rc) else connected.set()
    client.connect(broker.host, broker.port, keepalive=30)
    client.loop_start()
    sent = 0
    try:
        if not connected.wait(timeout):
            raise ConnectionError(f"could not connect to {broker.host}:{broker.port}")
        for topic, payload in messages:
            info = client.publish(topic, payload, qos=qos)
            info.wait_for_publish(timeout)
            if not info.is_published():
                raise TimeoutError(f"the broker did not acknowledge a message on {topic}")
            sent += 1
    finally:
        client.disconnect()
        client.loop_stop()
    return sent


def wait_for(condition: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()
