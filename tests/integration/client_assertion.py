#!/usr/bin/env python3
"""client_assertion.py - RFC 7523 client assertions for clients.sh, made
the way a client's own library would: an RS256 JWS over an RSA key that
openssl generated, signed by openssl (PKCS#1 v1.5 over SHA-256).

  client_assertion.py jwks KEY.pem KID
      the public key as a JWK Set on stdout
  client_assertion.py sign KEY.pem KID ISS SUB AUD EXP_IN_S JTI
      a signed JWT on stdout (exp = now + EXP_IN_S, may be negative)
"""
import base64
import json
import subprocess
import sys
import time


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def modulus(key):
    out = subprocess.run(["openssl", "rsa", "-in", key, "-noout", "-modulus"],
                         check=True, capture_output=True, text=True).stdout
    return bytes.fromhex(out.strip().split("=", 1)[1])


def jwks(key, kid):
    jwk = {"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
           "n": b64url(modulus(key)), "e": b64url((65537).to_bytes(3, "big"))}
    return json.dumps({"keys": [jwk]})


def sign(key, kid, iss, sub, aud, exp_in, jti):
    now = int(time.time())
    header = {"alg": "RS256", "typ": "JWT", "kid": kid}
    claims = {"iss": iss, "sub": sub, "aud": aud, "iat": now, "exp": now + int(exp_in), "jti": jti}
    signing_input = (b64url(json.dumps(header).encode()) + "." +
                     b64url(json.dumps(claims).encode()))
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key],
                         input=signing_input.encode(), check=True, capture_output=True).stdout
    return signing_input + "." + b64url(sig)


if __name__ == "__main__":
    if sys.argv[1] == "jwks":
        print(jwks(sys.argv[2], sys.argv[3]))
    elif sys.argv[1] == "sign":
        print(sign(*sys.argv[2:9]))
    else:
        sys.exit("usage: client_assertion.py jwks|sign ...")
