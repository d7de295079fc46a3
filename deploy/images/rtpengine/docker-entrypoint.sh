#!/bin/sh
# The control socket on the container's own interfaces, never published (the ng protocol has no
# authentication: only the compose networks reach it, and coturn refuses their private addresses as
# relay peers); media on the container's address with the public one in SDP.
set -eu
: "${RTP_PUBLIC_IP:?}"
own=$(hostname -i | awk '{print $1}')
exec rtpengine --config-file=/etc/rtpengine/rtpengine.conf --interface="$own!$RTP_PUBLIC_IP" --listen-ng="0.0.0.0:2223" \
  --port-min="${RTP_PORT_MIN:-20000}" --port-max="${RTP_PORT_MAX:-20100}" --foreground --log-stderr
