"""The field-encryption key every test process uses (never a real key)."""

import base64

TEST_DATA_KEYS = "t1:" + base64.b64encode(bytes(range(32))).decode()
