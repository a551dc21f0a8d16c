# Written by bench_pool (forkserver); gnuplot pool_plot.gp -> pool.svg
set terminal svg size 1000,520 dynamic font 'sans,11'
set output 'pool.svg'
set multiplot layout 1,2
set logscale x
set grid
set key below
set title 'Speed-up over a plain loop (2 workers)'
set xlabel 'task length (us)'
set ylabel 'speed-up'
set yrange [0:*]
plot 'pool_plot.dat' index 0 using 1:2 with linespoints lw 2 title 'mproc, chunksize 1', '' index 0 using 1:3 with linespoints lw 2 title 'mproc, default', '' index 0 using 1:4 with linespoints dt 2 title 'CPython, chunksize 1', '' index 0 using 1:5 with linespoints dt 2 title 'CPython, default'
set logscale y
set key below
set title 'map of 100000 ints: items/s'
set xlabel 'chunksize'
set ylabel 'items/s'
set yrange [*:*]
plot 'pool_plot.dat' index 1 using 1:2 with linespoints lw 2 title 'mproc, 1 workers', '' index 1 using 1:3 with linespoints dt 2 title 'CPython, 1 workers', 'pool_plot.dat' index 1 using 1:4 with linespoints lw 2 title 'mproc, 2 workers', '' index 1 using 1:5 with linespoints dt 2 title 'CPython, 2 workers', 'pool_plot.dat' index 1 using 1:6 with linespoints lw 2 title 'mproc, 4 workers', '' index 1 using 1:7 with linespoints dt 2 title 'CPython, 4 workers'
unset multiplot
