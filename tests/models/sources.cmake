list(APPEND ATTNSIM_TEST_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/collectives_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/nccl_tuning_test.cpp)
list(APPEND ATTNSIM_TEST_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/correction_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cost_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/fabric_collectives_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/mask_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/published_test.cpp)
