list(APPEND ATTNSIM_TEST_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/event_queue_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/flow_network_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/replay_test.cpp)
