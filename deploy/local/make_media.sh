#!/usr/bin/env bash
# Writes the local fleet's test stream under DIR with Debian's ffmpeg
# (testsrc2 picture, sine tone; H.264 + AAC, ~2 s segments):
#   DIR/vod/demo/master.m3u8        HLS master playlist, two renditions:
#   DIR/vod/demo/hd/index.m3u8        1280x720 (the "premium ladder" is both)
#   DIR/vod/demo/sd/index.m3u8        640x360  (the "SD ladder" is this one)
#   DIR/vod/dash/manifest.mpd       DASH, the same two renditions
#   DIR/vod/unauthorized/index.m3u8 a short red clip with a lower tone, the
#                                   fallback for viewers who may not watch
# Skips the work when DIR/.complete names the same recipe.
#
#   deploy/local/make_media.sh DIR [SECONDS]
set -euo pipefail
dir=$1 seconds=${2:-40}
recipe="v1 seconds=$seconds"
if [[ -f $dir/.complete && $(cat "$dir/.complete") == "$recipe" ]]; then exit 0; fi
command -v ffmpeg >/dev/null || { echo "make_media: ffmpeg is missing (scripts/deps.sh installs it)" >&2; exit 1; }
rm -rf "$dir/vod"
mkdir -p "$dir/vod/demo/hd" "$dir/vod/demo/sd" "$dir/vod/dash" "$dir/vod/unauthorized"
ff=(ffmpeg -hide_banner -loglevel error -nostdin -y)
# 25 fps, a key frame every 2 s, no scene-cut key frames: segments of 2 s.
gop=(-c:v libx264 -preset veryfast -profile:v main -pix_fmt yuv420p -g 50 -keyint_min 50 -sc_threshold 0
     -c:a aac -b:a 96k -ac 2 -ar 48000)
src=(-f lavfi -i "testsrc2=size=1280x720:rate=25:duration=$seconds"
     -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=$seconds")

echo "make_media: HLS (2 renditions, ${seconds}s) into $dir/vod/demo" >&2
"${ff[@]}" "${src[@]}" \
  -filter_complex "[0:v]split=2[a][b];[a]scale=1280:720[hd];[b]scale=640:360[sd]" \
  -map "[hd]" -map 1:a -map "[sd]" -map 1:a "${gop[@]}" -b:v:0 2500k -b:v:1 700k \
  -f hls -hls_time 2 -hls_list_size 0 -hls_playlist_type vod \
  -hls_segment_filename "$dir/vod/demo/%v/seg%03d.ts" \
  -master_pl_name master.m3u8 -var_stream_map "v:0,a:0,name:hd v:1,a:1,name:sd" \
  "$dir/vod/demo/%v/index.m3u8"

echo "make_media: DASH into $dir/vod/dash" >&2
# shellcheck disable=SC2016  # $RepresentationID$ and $Number$ are ffmpeg's DASH templates
"${ff[@]}" "${src[@]}" \
  -filter_complex "[0:v]split=2[a][b];[a]scale=1280:720[hd];[b]scale=640:360[sd]" \
  -map "[hd]" -map "[sd]" -map 1:a "${gop[@]}" -b:v:0 2500k -b:v:1 700k \
  -f dash -seg_duration 2 -use_template 1 -use_timeline 0 \
  -init_seg_name 'init-$RepresentationID$.m4s' -media_seg_name 'chunk-$RepresentationID$-$Number%05d$.m4s' \
  -adaptation_sets "id=0,streams=v id=1,streams=a" \
  "$dir/vod/dash/manifest.mpd"

echo "make_media: unauthorized clip into $dir/vod/unauthorized" >&2
"${ff[@]}" -f lavfi -i "color=c=0x992222:size=640x360:rate=25:duration=6" \
  -f lavfi -i "sine=frequency=220:sample_rate=48000:duration=6" \
  -map 0:v -map 1:a "${gop[@]}" -b:v 300k \
  -f hls -hls_time 2 -hls_list_size 0 -hls_playlist_type vod \
  -hls_segment_filename "$dir/vod/unauthorized/seg%03d.ts" "$dir/vod/unauthorized/index.m3u8"
echo "$recipe" >"$dir/.complete"
