list(APPEND ATTNSIM_TEST_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/fabric_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/gen_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/metrics_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/router_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/spec_test.cpp)
