#!/bin/sh
# Renders deploy/ejabberd/ejabberd.yml's define_macro values from the environment (nothing else in
# the file changes), then runs `ejabberdctl <command>` (foreground, or status for the health check).
set -eu
ETC=/var/lib/ejabberd/etc
ctl() {
  exec /usr/sbin/ejabberdctl --config-dir "$ETC" --config "$ETC/ejabberd.yml" --ctl-config "$ETC/ejabberdctl.cfg" \
    --spool /var/lib/ejabberd --logs /var/log/ejabberd "$@"
}
[ "${1:-foreground}" = status ] && ctl status

: "${XMPP_DOMAIN:?}" "${XMPP_COMPONENT_SECRET:?}" "${PUSH_COMPONENT_SECRET:?}" "${EJABBERD_DB_PASSWORD:?}" "${TURN_SECRET:?}"
mkdir -p "$ETC"
# A self-signed certificate on first start; mount the real one at /var/lib/ejabberd/tls/server.pem.
if [ ! -s /var/lib/ejabberd/tls/server.pem ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=$XMPP_DOMAIN" \
    -addext "subjectAltName=DNS:$XMPP_DOMAIN,DNS:*.$XMPP_DOMAIN" -keyout "$ETC/key.pem" -out "$ETC/cert.pem" 2>/dev/null
  cat "$ETC/cert.pem" "$ETC/key.pem" > /var/lib/ejabberd/tls/server.pem
fi

# macro NAME VALUE [raw]: the value quoted as a YAML string, or raw (numbers).
config=$(cat /usr/local/share/switchboard/ejabberd.yml)
macro() {
  value=$2; [ "${3:-}" = raw ] || value="\"$2\""
  escaped=$(printf '%s' "$value" | sed 's/[\\|&]/\\&/g')
  config=$(printf '%s\n' "$config" | sed "s|^  $1: .*\$|  $1: $escaped|")
}
macro XMPP_DOMAIN "$XMPP_DOMAIN"
macro CERTFILE /var/lib/ejabberd/tls/server.pem
# Inside the container every listener binds all its interfaces: the compose file publishes only the
# client ports, and the component listeners are reached over the private network alone.
macro LISTEN_IP 0.0.0.0
macro INTERNAL_IP 0.0.0.0
macro ADMIN_COMPONENT_DOMAIN "${XMPP_COMPONENT_DOMAIN:-gateway.$XMPP_DOMAIN}"
macro ADMIN_COMPONENT_SECRET "$XMPP_COMPONENT_SECRET"
macro PUSH_COMPONENT_DOMAIN "${PUSH_COMPONENT_DOMAIN:-push.$XMPP_DOMAIN}"
macro PUSH_COMPONENT_SECRET "$PUSH_COMPONENT_SECRET"
macro MUC_DOMAIN "${MUC_DOMAIN:-conference.$XMPP_DOMAIN}"
macro UPLOAD_DOMAIN "upload.$XMPP_DOMAIN"
macro UPLOAD_URL "${UPLOAD_URL:-https://${XMPP_HOST:-$XMPP_DOMAIN}:5443/upload}"
macro UPLOAD_DIR /var/lib/ejabberd/upload
macro SQL_SERVER "${SQL_SERVER:-db}"
macro SQL_DATABASE ejabberd
macro SQL_USERNAME ejabberd
macro SQL_PASSWORD "$EJABBERD_DB_PASSWORD"
macro TURN_HOST "${TURN_HOST:-${XMPP_HOST:-$XMPP_DOMAIN}}"
macro TURN_SECRET "$TURN_SECRET"
printf '%s\n' "$config" > "$ETC/ejabberd.yml"
cp /etc/ejabberd/inetrc "$ETC/inetrc"
printf 'ERLANG_NODE=ejabberd@localhost\nEXEC_CMD=as_current_user\nERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0"\n' > "$ETC/ejabberdctl.cfg"
ctl "$@"
