#!/bin/sh
# Put Timbre Studio in this user's application menu: the desktop entry (pointing at the
# timbre-studio program beside this script) and the icons in the hicolor theme.
#   ./install-desktop-entry.sh             install (again, after moving the folder)
#   ./install-desktop-entry.sh --uninstall remove them
set -eu
here=$(cd "$(dirname "$0")" && pwd)
data=${XDG_DATA_HOME:-$HOME/.local/share}
entry="$data/applications/timbre-studio.desktop"
icons="$here/_internal/engine/_bundled/assets/icons/hicolor"

if [ "${1:-}" = "--uninstall" ]; then
  rm -f "$entry"
  find "$data/icons/hicolor" -path '*/apps/timbre-studio.*' -delete 2>/dev/null || true
  echo "removed $entry and the timbre-studio icons"
  exit 0
fi

[ -x "$here/timbre-studio" ] || { echo "install-desktop-entry: no timbre-studio program in $here" >&2; exit 1; }
case "$here" in
  *[\"\`\$\\]*) echo "install-desktop-entry: move the folder to a path without \" \` \$ or \\ first: $here" >&2; exit 1 ;;
esac
mkdir -p "$data/applications" "$data/icons"
cp -R "$icons" "$data/icons/"
# the entry runs this folder's program (quoted: the path may contain spaces; & and | escaped for sed)
program=$(printf '%s' "$here/timbre-studio" | sed 's/[&|]/\\&/g')
sed -e "s|^Exec=timbre-studio|Exec=\"$program\"|" \
    -e "s|^TryExec=timbre-studio|TryExec=$program|" \
    "$here/timbre-studio.desktop" > "$entry.partial"
mv "$entry.partial" "$entry"
command -v update-desktop-database >/dev/null && update-desktop-database -q "$data/applications" || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$data/icons/hicolor" || true
echo "installed $entry"
