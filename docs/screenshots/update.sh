#!/bin/sh
# Takes the screenshots in this folder again: the chat page and the widget
# at desktop and phone sizes, from a real server and headless Chromium
# (apt-get install -y chromium). Run it from anywhere in the repository.
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
cd "$dir/../.."
BOTSERVER_SCREENSHOTS="$dir" go test ./platforms/web -run '^TestScreenshots$' -count 1 -v 
ls -l "$dir"/*.png
