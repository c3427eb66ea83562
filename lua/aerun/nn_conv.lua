-- aerun.nn_conv: placeholder until its layers land
return function(nn) end
