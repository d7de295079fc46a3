#!/bin/sh
# Renders deploy/kamailio/kamailio.cfg's #!substdef values from the environment (nothing else in the
# file changes) and runs Kamailio in the foreground.
set -eu
# The SIP domain (digest realm) is the XMPP domain unless set apart, as Switchboard's SIP_DOMAIN.
SIP_DOMAIN=${SIP_DOMAIN:-${XMPP_DOMAIN:-}}; export SIP_DOMAIN
: "${SWITCHBOARD_URL:?}" "${HOOK_SECRET:?}" "${SIP_DOMAIN:?}" "${SIP_HOST:?}"
RUN=/run/kamailio
TLS=/var/lib/kamailio/tls
# A self-signed certificate on first start; mount the real ones at $TLS/fullchain.pem and privkey.pem.
if [ ! -s "$TLS/fullchain.pem" ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=$SIP_HOST" -addext "subjectAltName=DNS:$SIP_HOST" \
    -keyout "$TLS/privkey.pem" -out "$TLS/fullchain.pem" 2>/dev/null
fi
# rtpengine's control socket by address: the module takes the host as given.
rtpengine_ip=$(getent hosts "${RTPENGINE_HOST:-rtpengine}" | awk '{print $1; exit}')
ring_ms=$(( ${CALL_RING_SECONDS:-30} * 1000 ))

config=$(cat /usr/local/share/switchboard/kamailio/kamailio.cfg)
substdef() {
  escaped=$(printf '%s' "$2" | sed 's/[\\|&]/\\&/g')
  config=$(printf '%s\n' "$config" | sed "s|^#!substdef \"!$1!.*!g\"\$|#!substdef \"!$1!$escaped!g\"|")
}
substdef SIP_IP 0.0.0.0
substdef ADVERTISED_HOST "$SIP_HOST"
substdef RTPENGINE_SOCK "udp:$rtpengine_ip:2223"
substdef TLS_CONFIG "$RUN/tls.cfg"
substdef CTL_SOCKET "unix:$RUN/kamailio_ctl"
substdef RING_MS "$ring_ms"
[ -n "${FLOOD_REQUESTS:-}" ] && substdef FLOOD_REQUESTS "$FLOOD_REQUESTS"
printf '%s\n' "$config" > "$RUN/kamailio.cfg"
sed -e "s|^certificate = .*|certificate = $TLS/fullchain.pem|" -e "s|^private_key = .*|private_key = $TLS/privkey.pem|" \
  /usr/local/share/switchboard/kamailio/tls.cfg > "$RUN/tls.cfg"
exec kamailio -DD -E -f "$RUN/kamailio.cfg" -m "${SHM_MB:-64}" -M 8 -P "$RUN/kamailio.pid" -Y "$RUN"
