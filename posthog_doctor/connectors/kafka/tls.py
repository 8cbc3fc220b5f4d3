"""The TLS context for a Kafka target: a CA (file or PostHog's base64 PEM), a client certificate, verification."""

from __future__ import annotations

import os
import ssl
import tempfile

from ..base import ConnectorError, ErrorKind, first_line
from .target import KafkaTarget


def ssl_context(t: KafkaTarget) -> ssl.SSLContext:
    try:
        context = ssl.create_default_context(cafile=t.ssl_cafile or None, cadata=t.ssl_cadata or None)
    except (OSError, ssl.SSLError, ValueError) as exc:
        raise ConnectorError(
            f"cannot load the CA certificate for {t.where}: {first_line(str(exc))}", ErrorKind.TLS
        ) from None
    if not t.ssl_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif not t.ssl_check_hostname:
        context.check_hostname = False
    try:
        if t.ssl_certfile:
            context.load_cert_chain(t.ssl_certfile, t.ssl_keyfile or None)
        elif t.ssl_cert_pem:
            # ssl loads a certificate chain only from files: write them where only this process can read them.
            with tempfile.TemporaryDirectory(prefix="posthog-doctor-kafka-") as folder:
                cert, key = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
                for path, text in ((cert, t.ssl_cert_pem), (key, t.ssl_key_pem)):
                    if text:
                        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                        with os.fdopen(fd, "w") as fh:
                            fh.write(text)
                context.load_cert_chain(cert, key if t.ssl_key_pem else None)
    except (OSError, ssl.SSLError, ValueError) as exc:
        raise ConnectorError(
            f"cannot load the client certificate for {t.where}: {first_line(str(exc))}", ErrorKind.TLS
        ) from None
    return context
