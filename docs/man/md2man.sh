#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Turns a manual page written in Markdown (docs/man/NAME.N.md) into roff
# with go-md2man: the SPDX comment goes, and the "# NAME(N)" heading
# becomes the title line go-md2man reads ("% NAME N").
#
#   md2man.sh GO-MD2MAN INPUT.md OUTPUT
set -eu
md2man=$1 in=$2 out=$3
sed -e '/^<!--.*-->$/d' -e 's/^# \([A-Za-z0-9_.-]*\)(\([0-9]\))$/% \1 \2/' "$in" | "$md2man" -out "$out"
