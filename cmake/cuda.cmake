# cuda.cmake — the CUDA backend (kernels/cuda), built when the CUDA toolkit's headers are found.
#
# Only headers are needed at build time: cuda.h (driver API types), nvrtc.h and cufft.h. Nothing from CUDA is linked.
# The driver (libcuda.so.1), NVRTC (libnvrtc.so.*) and cuFFT (libcufft.so.*) are opened with dlopen when a CUDA
# device is first asked for, so the same binary starts, and reports the backend unavailable, on a machine with no
# NVIDIA driver or toolkit. nvcc is not used either: the kernels are compiled at run time by NVRTC.
#
#   FS_CUDA=OFF            build without the CUDA backend even where the toolkit is
#   FS_CUDA_ROOT=<dir>     the toolkit (default: CUDAToolkit_ROOT, else $CUDAToolkit_ROOT, else $CUDA_HOME, else
#                          /usr/local/cuda)
#
# With the toolkit: kernels/cuda/*.c join ferrosolv_lib, FS_HAVE_CUDA=1 is defined for everything that links it, and
# FS_CUDA_LIBDIR (the toolkit's library folder) is where kernels/cuda looks for NVRTC and cuFFT when the dynamic
# loader's search finds neither.
option(FS_CUDA "Build the CUDA backend where the toolkit's headers are found" ON)

set(_fs_cuda_default "/usr/local/cuda")
if(DEFINED CUDAToolkit_ROOT)
  set(_fs_cuda_default "${CUDAToolkit_ROOT}")
elseif(DEFINED ENV{CUDAToolkit_ROOT})
  set(_fs_cuda_default "$ENV{CUDAToolkit_ROOT}")
elseif(DEFINED ENV{CUDA_HOME})
  set(_fs_cuda_default "$ENV{CUDA_HOME}")
endif()
set(FS_CUDA_ROOT "${_fs_cuda_default}" CACHE PATH "CUDA toolkit root (headers cuda.h, nvrtc.h, cufft.h)")

set(_fs_cuda_missing "")
if(NOT FS_CUDA)
  set(_fs_cuda_missing "disabled (FS_CUDA=OFF)")
else()
  foreach(h cuda.h nvrtc.h cufft.h)
    if(NOT EXISTS "${FS_CUDA_ROOT}/include/${h}")
      list(APPEND _fs_cuda_missing "${h}")
    endif()
  endforeach()
  if(_fs_cuda_missing)
    string(REPLACE ";" ", " _fs_cuda_missing "no ${_fs_cuda_missing} in ${FS_CUDA_ROOT}/include (set FS_CUDA_ROOT)")
  endif()
endif()

if(_fs_cuda_missing)
  message(STATUS "CUDA backend: OFF — ${_fs_cuda_missing}")
else()
  # The toolkit's library folder: the first that holds NVRTC.
  set(FS_CUDA_LIBDIR "${FS_CUDA_ROOT}/lib64")
  foreach(d lib64 lib "targets/${CMAKE_SYSTEM_PROCESSOR}-linux/lib")
    file(GLOB _fs_nvrtc "${FS_CUDA_ROOT}/${d}/libnvrtc.so*")
    if(_fs_nvrtc)
      set(FS_CUDA_LIBDIR "${FS_CUDA_ROOT}/${d}")
      break()
    endif()
  endforeach()

  file(STRINGS "${FS_CUDA_ROOT}/include/cuda.h" _fs_cuda_version REGEX "^#define CUDA_VERSION [0-9]+")
  string(REGEX REPLACE "^#define CUDA_VERSION ([0-9]+).*" "\\1" _fs_cuda_version "${_fs_cuda_version}")
  math(EXPR _fs_cuda_major "${_fs_cuda_version} / 1000")
  math(EXPR _fs_cuda_minor "(${_fs_cuda_version} % 1000) / 10")

  file(GLOB FS_CUDA_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/kernels/cuda/*.c)
  target_sources(ferrosolv_lib PRIVATE ${FS_CUDA_SOURCES})
  target_include_directories(ferrosolv_lib SYSTEM PRIVATE "${FS_CUDA_ROOT}/include")
  target_compile_definitions(ferrosolv_lib PUBLIC FS_HAVE_CUDA=1)
  target_compile_definitions(ferrosolv_lib PRIVATE FS_CUDA_LIBDIR="${FS_CUDA_LIBDIR}")
  find_package(Threads REQUIRED) # pthread_once guards the one-time dlopen of each library
  target_link_libraries(ferrosolv_lib PUBLIC Threads::Threads)
  message(STATUS "CUDA backend: ON — headers of CUDA ${_fs_cuda_major}.${_fs_cuda_minor} in ${FS_CUDA_ROOT}/include; "
                 "libcuda.so.1, NVRTC and cuFFT loaded at run time (fallback folder ${FS_CUDA_LIBDIR})")
endif()
