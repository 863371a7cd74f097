list(APPEND ATTNSIM_TEST_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/cpu_attention_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cuda_assemble_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cuda_plan_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cuda_sdpa_eval_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cuda_sdpa_graph_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/fit_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/host_info_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/profile_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/thread_pool_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/timing_test.cpp)
