#!/bin/sh
# deploy/coturn/turnserver.conf with the public address (external-ip, and the same address denied as
# a relay peer), realm, secret and relay ports from the environment.
set -eu
: "${TURN_SECRET:?}" "${TURN_REALM:?}" "${TURN_EXTERNAL_IP:?}"
TLS=/var/lib/coturn/tls
if [ ! -s "$TLS/fullchain.pem" ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=$TURN_REALM" -keyout "$TLS/privkey.pem" -out "$TLS/fullchain.pem" 2>/dev/null
fi
deployed=$(sed -n 's/^external-ip=//p' /usr/local/share/switchboard/turnserver.conf)
sed -e "s|^external-ip=.*|external-ip=$TURN_EXTERNAL_IP|" -e "s|^denied-peer-ip=$deployed\$|denied-peer-ip=$TURN_EXTERNAL_IP|" \
    -e "s|^realm=.*|realm=$TURN_REALM|" -e "s|^static-auth-secret=.*|static-auth-secret=$TURN_SECRET|" \
    -e "s|^min-port=.*|min-port=${TURN_PORT_MIN:-49160}|" -e "s|^max-port=.*|max-port=${TURN_PORT_MAX:-49200}|" \
    -e "s|^cert=.*|cert=$TLS/fullchain.pem|" -e "s|^pkey=.*|pkey=$TLS/privkey.pem|" \
    /usr/local/share/switchboard/turnserver.conf > /run/coturn/turnserver.conf
exec turnserver -c /run/coturn/turnserver.conf --pidfile=/run/coturn/turnserver.pid
