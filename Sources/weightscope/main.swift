print("weightscope")
