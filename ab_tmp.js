const rx=require('/work/wt/profile/dist/cjs/index.js');
(async()=>{rx.setNumThreads(2);
for (const name of ['resnext50_32x4d','resnet50']){
const m=rx.presets[name]({seed:1});const x=rx.randn([1,3,224,224],{seed:3});
await m.forward(x);await m.profile(x);const f=[],p=[];
for(let r=0;r<30;r++){let t=performance.now();await m.forward(x);f.push(performance.now()-t);t=performance.now();await m.profile(x);p.push(performance.now()-t);}
const med=v=>{v=[...v].sort((a,b)=>a-b);return v[v.length>>1]};
console.log(name,'forward median',med(f).toFixed(2),'profile median',med(p).toFixed(2),'min',Math.min(...f).toFixed(2),Math.min(...p).toFixed(2));m.dispose();}})();
