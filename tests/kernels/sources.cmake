# The kernels' index logic and host-side planning, on a CPU (no CUDA needed).
list(APPEND ATTNSIM_TEST_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/layout_index_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/mask_index_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/plan_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/reference_test.cpp)
