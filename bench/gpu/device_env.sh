# sourced on the GPU machine from the project's root
mkdir -p /tmp/mp-jre && python3 -c "import tarfile,lzma,shutil; tarfile.open('.device/jre.txz').extractall('/tmp/mp-jre'); shutil.copyfileobj(lzma.open('.device/libmetaprune_cuda.so.xz'), open('/tmp/libmetaprune_cuda.so','wb'))"
export JAVA=/tmp/mp-jre/jre/bin/java
export CP="$PWD/.device/lib/*"
export JAVA_OPTS="--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xss4m"
nv=$(python3 -c 'import nvidia, os; print(os.path.dirname(nvidia.__path__[0]))' 2>/dev/null || true)
if [[ -n "$nv" ]]; then
  for d in "$nv"/nvidia/*/lib; do LD_LIBRARY_PATH="$d:${LD_LIBRARY_PATH:-}"; done
  export LD_LIBRARY_PATH
fi
