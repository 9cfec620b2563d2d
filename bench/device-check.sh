#!/bin/sh
# The engine's tests and benchmarks on a machine with a real GPU (the lent
# device machine, which has no compiler toolchain or Debian packages of
# its own): binaries built here and stripped into .gpu/bin; Debian's
# libvulkan1 and the libglvnd libraries NVIDIA's Vulkan driver needs
# (libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2) in .gl, unpacked
# into / as the device README says; json-glib, GLib and the Khronos
# validation layer in .gpu/debs (unpacked beside), the CLIP vocabulary in
# .gpu/clip. Logs and figures go to $OUT. See bench/RESULTS.md.
set -u
OUT=${OUT:-/tmp/device-check}
mkdir -p "$OUT"
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
X=/tmp/sfdeps
mkdir -p $X
for f in .gpu/debs/*.deb; do dpkg -x "$f" $X; done
export LD_LIBRARY_PATH=$X/usr/lib/x86_64-linux-gnu
export VK_LAYER_PATH=$X/usr/share/vulkan/explicit_layer.d
for icd in /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json \
           /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json; do
  if [ -f "$icd" ]; then export VK_DRIVER_FILES=$icd; break; fi
done
{ nvidia-smi -L; echo "ICD: ${VK_DRIVER_FILES:-none}"; nproc; } 2>&1 | tee "$OUT/machine.txt"

B=$PWD/.gpu/bin
H=/tmp/sfhome
mkdir -p $H/cache $H/data/sfumato/clip
cp .gpu/clip/*.gz $H/data/sfumato/clip/
export SF_TEST_DATA=$PWD/tests/data XDG_CACHE_HOME=$H/cache XDG_DATA_HOME=$H/data
export SFUMATO_VALIDATE=1 SF_TEST_QUICK=1
for t in test-vk-core test-ops-basic test-op-elementwise test-op-layout test-op-embedding \
         test-op-norm test-op-matmul test-op-conv test-op-attention test-generate; do
  timeout 150 $B/$t > "$OUT/$t.log" 2>&1
  echo "$t: exit $?" | tee -a "$OUT/summary.txt"
done
timeout 150 $B/test-model -s /model/unet/refiner-matches-diffusers > "$OUT/test-model.log" 2>&1
echo "test-model: exit $?" | tee -a "$OUT/summary.txt"
unset SFUMATO_VALIDATE SF_TEST_QUICK
SF_BENCH_SECONDS=0.5 timeout 150 $B/sfumato-bench-ops > "$OUT/bench-ops.txt" 2>&1
echo "bench-ops: exit $?" | tee -a "$OUT/summary.txt"
timeout 300 $B/sfumato-bench-generate --make-random sdxl-base --model /tmp/sdxl-base-random.safetensors \
  --size 1024 --steps 3 > "$OUT/bench-generate.txt" 2>&1
echo "bench-generate: exit $?" | tee -a "$OUT/summary.txt"
cat "$OUT/bench-generate.txt"
grep -h -E "^(ok|not ok)|Bail|ERROR" "$OUT"/test-*.log | sort | uniq -c | sort -rn | head -20
