# cuda.cmake — the CUDA backend (kernels/cuda), built when the CUDA toolkit's headers are found.
# Placeholder until kernels/cuda exists: nothing is added.
