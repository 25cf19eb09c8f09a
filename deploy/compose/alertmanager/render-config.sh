#!/bin/sh
# Prints Alertmanager's config: TEMPLATE as committed, plus a webhook under each receiver
# `<name>` whose ALERT_<NAME>_WEBHOOK_URL is set. A receiver without one stays a null
# receiver, and this says so on stderr, which is the container's log.
#   render-config.sh /etc/alertmanager/alertmanager.yml > /tmp/alertmanager.yml
#
# Why a script: Alertmanager expands no environment variables in its config file. Its webhook
# `url_file` (Alertmanager 0.26 and later) would read a URL from a file, but cannot leave a
# receiver without one, and amtool 0.25, which checks this config in the tests, rejects it.
# POSIX sh, sed and tr only: the image is busybox.
set -eu

template=${1:?usage: render-config.sh TEMPLATE > CONFIG}
in_receivers=false
receivers=0

while IFS= read -r line || [ -n "$line" ]; do
  printf '%s\n' "$line"
  case $line in
    receivers:*) in_receivers=true; continue ;;
    [!\ \#]*) in_receivers=false; continue ;;
    '  - name: '*) $in_receivers || continue ;;
    *) continue ;;
  esac
  name=${line#'  - name: '}
  case $name in
    '' | *[!a-z-]*) echo "render-config.sh: receiver name '$name' is not [a-z-]+" >&2; exit 1 ;;
  esac
  receivers=$((receivers + 1))
  variable=ALERT_$(printf '%s' "$name" | tr 'a-z-' 'A-Z_')_WEBHOOK_URL
  eval "url=\${$variable:-}"
  if [ -z "$url" ]; then
    echo "alertmanager: $variable is not set: receiver \"$name\" is a null receiver;" \
      "its alerts show at http://localhost:9093 and reach nobody" >&2
    continue
  fi
  # Single-quoted YAML: nothing in the URL is special but a quote, written twice.
  printf "    webhook_configs:\n      - url: '%s'\n        send_resolved: true\n" \
    "$(printf '%s' "$url" | sed "s/'/''/g")"
  # Never the URL itself: webhook URLs often carry their token.
  echo "alertmanager: receiver \"$name\" posts to the webhook in $variable" >&2
done <"$template"

if [ "$receivers" -eq 0 ]; then
  echo "render-config.sh: no receivers in $template" >&2
  exit 1
fi
