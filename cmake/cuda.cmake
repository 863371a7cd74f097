# CUDA is optional: kernels/ and calibrate/cuda build only where nvcc is found
# (/usr/local/cuda on our machines); everything else builds and tests without it.
set(ATTNSIM_HAVE_CUDA OFF)
set(ATTNSIM_HAVE_NCCL OFF)
set(ATTNSIM_HAVE_CUDNN OFF)
if(NOT ATTNSIM_CUDA STREQUAL "OFF")
  if(NOT CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES 80 90)  # not "native": build machines have no GPU
    endif()
    enable_language(CUDA)
    set(CMAKE_CUDA_STANDARD 17)  # CMake 3.25 cannot request CUDA20 from nvcc 13
    find_package(CUDAToolkit REQUIRED)
    set(ATTNSIM_HAVE_CUDA ON)
    # NCCL (for calibrate/cuda) ships inside the toolkit tree on our machines, in lib/ beside
    # lib64/ (/usr/local/cuda-13.0/lib/libnccl.so).
    find_library(NCCL_LIBRARY nccl
      HINTS ${CUDAToolkit_LIBRARY_DIR} ${CUDAToolkit_LIBRARY_ROOT}/lib ${CUDAToolkit_TARGET_DIR}/lib)
    find_path(NCCL_INCLUDE_DIR nccl.h HINTS ${CUDAToolkit_INCLUDE_DIRS})
    set(ATTNSIM_HAVE_NCCL OFF)
    if(NCCL_LIBRARY AND NCCL_INCLUDE_DIR)
      add_library(NCCL::nccl UNKNOWN IMPORTED)
      set_target_properties(NCCL::nccl PROPERTIES
        IMPORTED_LOCATION ${NCCL_LIBRARY}
        INTERFACE_INCLUDE_DIRECTORIES ${NCCL_INCLUDE_DIR})
      set(ATTNSIM_HAVE_NCCL ON)
    endif()
    # cuDNN (for the CUDA backend's fused-attention rows, calibrate/cuda/cudnn_sdpa.h): the
    # backend graph API of cuDNN 9 (cudnn_graph.h, libcudnn), installed into the toolkit tree on
    # our machines (/usr/local/cuda/include, /usr/local/cuda/lib64).
    find_library(CUDNN_LIBRARY cudnn
      HINTS ${CUDAToolkit_LIBRARY_DIR} ${CUDAToolkit_LIBRARY_ROOT}/lib64 ${CUDAToolkit_TARGET_DIR}/lib64)
    find_path(CUDNN_INCLUDE_DIR cudnn_graph.h HINTS ${CUDAToolkit_INCLUDE_DIRS})
    if(CUDNN_LIBRARY AND CUDNN_INCLUDE_DIR)
      add_library(CUDNN::cudnn UNKNOWN IMPORTED)
      set_target_properties(CUDNN::cudnn PROPERTIES
        IMPORTED_LOCATION ${CUDNN_LIBRARY}
        INTERFACE_INCLUDE_DIRECTORIES ${CUDNN_INCLUDE_DIR})
      get_filename_component(CUDNN_LIBRARY_DIR ${CUDNN_LIBRARY} DIRECTORY)
      set(ATTNSIM_HAVE_CUDNN ON)
    endif()
  elseif(ATTNSIM_CUDA STREQUAL "ON")
    message(FATAL_ERROR "ATTNSIM_CUDA=ON but no CUDA compiler was found")
  endif()
endif()
message(STATUS "attnsim: CUDA targets ${ATTNSIM_HAVE_CUDA}, NCCL ${ATTNSIM_HAVE_NCCL}, "
               "cuDNN ${ATTNSIM_HAVE_CUDNN}")
