#!/usr/bin/env bash
# Installs every Debian package the project needs. Idempotent and non-interactive; run as root.
set -euo pipefail
PACKAGES=(
  build-essential cmake git pkg-config
  openmpi-bin libopenmpi-dev
  libhdf5-dev hdf5-tools
  nlohmann-json3-dev libcli11-dev libopenblas-dev zlib1g-dev
  libgtest-dev libbenchmark-dev
  libsimgrid-dev
  slurm-wlm munge
  clang libclang-rt-14-dev  # the fuzz targets (libFuzzer runtime; tests/fuzz)
  python3 python3-matplotlib python3-h5py python3-numpy
  dataset-fashion-mnist
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
