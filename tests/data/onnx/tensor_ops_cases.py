#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes randomized cases of the tensor op family (Slice with extreme starts/ends and negative
steps, Pad in every mode with negative pads, every Reduce* at opsets 13 and 18, GatherND with
batch_dims, ScatterND/ScatterElements reductions, DepthToSpace/SpaceToDepth, LayerNormalization
with its Mean/InvStdDev outputs, Split, Einsum, TopK ties, ...) with numpy's answers, in the
layout of ONNX's node tests, for the node runner to check pare against:

  /usr/bin/python3 tests/data/onnx/tensor_ops_cases.py OUT
  build/dev/tests/onnx_node/pare_onnx_node_runner OUT/node
"""
import os
import shutil
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

OUT = os.path.join(sys.argv[1], 'node')
shutil.rmtree(OUT, ignore_errors=True); os.makedirs(OUT)
rng=np.random.default_rng(1)
T={np.float32:TensorProto.FLOAT,np.int64:TensorProto.INT64,np.int32:TensorProto.INT32,np.uint8:TensorProto.UINT8,np.int8:TensorProto.INT8,np.bool_:TensorProto.BOOL}
count=0
def case(name, op, inputs, outputs, attrs={}, opset=18, inames=None):
    global count
    count+=1
    d=f'{OUT}/{name}'; os.makedirs(d+'/test_data_set_0')
    inames = inames or [f'i{k}' if v is not None else '' for k,v in enumerate(inputs)]
    onames=[f'o{k}' for k in range(len(outputs))]
    node=helper.make_node(op,inames,onames,**attrs)
    gi=[helper.make_tensor_value_info(n,T[v.dtype.type],v.shape) for n,v in zip(inames,inputs) if v is not None]
    go=[helper.make_tensor_value_info(n,T[v.dtype.type],v.shape) for n,v in zip(onames,outputs)]
    g=helper.make_graph([node],name,gi,go)
    m=helper.make_model(g,opset_imports=[helper.make_opsetid('',opset)])
    m.ir_version=8
    onnx.save(m,d+'/model.onnx')
    k=0
    for n,v in zip(inames,inputs):
        if v is None: continue
        open(f'{d}/test_data_set_0/input_{k}.pb','wb').write(numpy_helper.from_array(v,n).SerializeToString()); k+=1
    for k,(n,v) in enumerate(zip(onames,outputs)):
        open(f'{d}/test_data_set_0/output_{k}.pb','wb').write(numpy_helper.from_array(np.asarray(v),n).SerializeToString())
i64=lambda *a: np.array(a,dtype=np.int64)
# Slice random
for t in range(60):
    r=rng.integers(1,4); shape=tuple(rng.integers(0,6,r))
    x=rng.standard_normal(shape).astype(np.float32)
    naxes=rng.integers(1,r+1); axes=rng.permutation(r)[:naxes]
    st=[];en=[];sp=[];sl=[slice(None)]*r
    for a in axes:
        s=int(rng.choice([rng.integers(-8,8), -2**63, 2**63-1])); e=int(rng.choice([rng.integers(-8,8), -2**63, 2**63-1]))
        p=int(rng.choice([1,2,3,-1,-2,-3]))
        st.append(s);en.append(e);sp.append(p)
        # ONNX semantics with clamping
        dim=shape[a]
        def norm(v, lo, hi):
            if v<0: v+=dim
            return min(max(v,lo),hi)
        if p>0: ss=norm(s,0,dim); ee=norm(e,0,dim)
        else: ss=norm(s,-1,dim-1); ee=norm(e,-1,dim-1)
        idx=list(range(ss,ee,p))
        sl[a]=idx
    y=x
    for a in range(r):
        if isinstance(sl[a],list): y=np.take(y,np.array(sl[a],dtype=np.int64),axis=a)
    axes_in=[int(a)-r if rng.random()<0.5 else int(a) for a in axes]
    case(f'slice_{t}','Slice',[x,i64(*st),i64(*en),i64(*axes_in),i64(*sp)],[y],opset=13)
# Pad
for t in range(40):
    r=rng.integers(1,4); shape=tuple(rng.integers(1,5,r))
    x=rng.standard_normal(shape).astype(np.float32)
    mode=rng.choice(['constant','reflect','edge'])
    pads=[]
    for d in shape:
        lo = -d+1 if mode!='constant' else -d
        hi = (d-1) if mode=='reflect' else 6
        pads.append((int(rng.integers(max(lo,-2),hi+1)), int(rng.integers(max(lo,-2),hi+1))))
    # numpy pad cannot do negative: pad positive parts then crop
    pos=[(max(a,0),max(b,0)) for a,b in pads]
    kw={'constant_values':1.5} if mode=='constant' else {}
    y=np.pad(x,pos,mode=mode,**kw)
    sl=tuple(slice(-min(a,0), y.shape[i]-(-min(b,0))) for i,(a,b) in enumerate(pads))
    y=y[sl]
    pv=i64(*([a for a,b in pads]+[b for a,b in pads]))
    ins=[x,pv,np.array(1.5,dtype=np.float32)] if mode=='constant' else [x,pv]
    case(f'pad_{t}','Pad',ins,[y],{'mode':str(mode)},opset=13)
# Pad opset 18 axes
x=rng.standard_normal((2,3,4)).astype(np.float32)
case('pad_axes','Pad',[x,i64(1,2,0,1),np.array(0.5,dtype=np.float32),i64(-1,0)],[np.pad(x,[(2,1),(0,0),(1,0)],constant_values=0.5)],opset=18)
xi=rng.integers(-5,5,(3,4)).astype(np.int32)
case('pad_int_edge','Pad',[xi,i64(1,3,2,0)],[np.pad(xi,[(1,2),(3,0)],mode='edge')],{'mode':'edge'},opset=11)
# Pad opset 2 attrs
case('pad_v2','Pad',[x],[np.pad(x,[(0,1),(1,0),(2,2)],constant_values=2.0)],{'pads':[0,1,2,1,0,2],'value':2.0},opset=2)
# Reductions opset 18 and 13
fns={'ReduceSum':np.sum,'ReduceMean':np.mean,'ReduceMax':np.max,'ReduceMin':np.min,'ReduceProd':np.prod,
 'ReduceL1':lambda a,axis,keepdims: np.sum(np.abs(a),axis=axis,keepdims=keepdims),
 'ReduceL2':lambda a,axis,keepdims: np.sqrt(np.sum(a*a,axis=axis,keepdims=keepdims)),
 'ReduceLogSum':lambda a,axis,keepdims: np.log(np.sum(a,axis=axis,keepdims=keepdims)),
 'ReduceLogSumExp':lambda a,axis,keepdims: np.log(np.sum(np.exp(a.astype(np.float64)),axis=axis,keepdims=keepdims)),
 'ReduceSumSquare':lambda a,axis,keepdims: np.sum(a*a,axis=axis,keepdims=keepdims)}
for t in range(80):
    op=list(fns)[t%len(fns)]
    r=rng.integers(1,5); shape=tuple(rng.integers(1,5,r))
    x=rng.uniform(0.5,1.5,shape).astype(np.float32) if op in('ReduceLogSum','ReduceProd') else rng.standard_normal(shape).astype(np.float32)
    n=rng.integers(0,r+1); axes=sorted(rng.permutation(r)[:n].tolist())
    keep=int(rng.integers(0,2))
    y=fns[op](x,axis=tuple(axes) if axes else None,keepdims=bool(keep)).astype(np.float32)
    ax=[a-r if rng.random()<0.5 else a for a in axes]
    if t%2==0:
        case(f'{op}_{t}',op,[x,i64(*ax)] if ax else [x],[y],{'keepdims':keep},opset=18)
    else:
        at={'keepdims':keep}
        if ax: at['axes']=ax
        if op=='ReduceSum': case(f'{op}_{t}',op,[x,i64(*ax)] if ax else [x],[y],{'keepdims':keep},opset=13)
        else: case(f'{op}_{t}',op,[x],[y],at,opset=13)
# int reductions
xi=rng.integers(-50,50,(3,4,5)).astype(np.int32)
for op,f in [('ReduceSum',np.sum),('ReduceMax',np.max),('ReduceMin',np.min),('ReduceProd',np.prod)]:
    case(f'{op}_int','%s'%op,[xi,i64(1)],[f(xi,axis=1,keepdims=True).astype(np.int32)],opset=18)
# GatherND batch dims
data=rng.standard_normal((2,3,4,5)).astype(np.float32)
idx=np.stack([rng.integers(-3,3,(2,6)),rng.integers(-4,4,(2,6))],-1).astype(np.int64)  # [2,6,2] batch_dims=1
y=np.stack([data[b][tuple(np.mod(idx[b,:,k],[3,4][k]) for k in range(2))] for b in range(2)])
case('gathernd_b1','GatherND',[data,idx],[y],{'batch_dims':1},opset=13)
idx2=rng.integers(0,2,(3,2,1)).astype(np.int64)
case('gathernd_2','GatherND',[data,idx2],[data[idx2[...,0]]],opset=13)
idx3=np.stack([rng.integers(0,2,(2,3,7)),rng.integers(0,3,(2,3,7)),rng.integers(0,4,(2,3,7))],-1).astype(np.int64)
y3=np.stack([np.stack([data[b,c][idx3[b,c,:,1],idx3[b,c,:,2]] for c in range(3)]) for b in range(2)])
case('gathernd_b2','GatherND',[data,idx3[...,1:]],[y3],{'batch_dims':2},opset=13)
# ScatterND
for red in ['none','add','mul','max','min']:
    d=rng.standard_normal((4,3,2)).astype(np.float32)
    ind=np.array([[1],[3],[0]],dtype=np.int64) if red=='none' else np.array([[1,0],[3,2],[1,0]],dtype=np.int64)
    up=rng.standard_normal((3,3,2) if red=='none' else (3,2)).astype(np.float32)
    y=d.copy()
    for k in range(len(ind)):
        t_=tuple(ind[k])
        if red=='none': y[t_]=up[k]
        elif red=='add': y[t_]+=up[k]
        elif red=='mul': y[t_]*=up[k]
        elif red=='max': y[t_]=np.maximum(y[t_],up[k])
        else: y[t_]=np.minimum(y[t_],up[k])
    case(f'scatternd_{red}','ScatterND',[d,ind,up],[y],{'reduction':red} if red!='none' else {},opset=18)
# ScatterElements with reductions, int data
d=rng.integers(-5,5,(3,4)).astype(np.int64); ind=rng.integers(-4,4,(2,3)).astype(np.int64); up=rng.integers(-5,5,(2,3)).astype(np.int64)
y=d.copy()
for i in range(2):
    for j in range(3): y[i,ind[i,j]%4]+=up[i,j]
case('scatterel_add_int','ScatterElements',[d,ind,up],[y],{'axis':1,'reduction':'add'},opset=16)
# DepthToSpace/SpaceToDepth reference
x=rng.standard_normal((2,8,3,2)).astype(np.float32)
b=2
n,c,h,w=x.shape
y=x.reshape(n,b,b,c//4,h,w).transpose(0,3,4,1,5,2).reshape(n,c//4,h*b,w*b)
case('d2s_dcr','DepthToSpace',[x],[y],{'blocksize':2},opset=13)
y=x.reshape(n,c//4,b,b,h,w).transpose(0,1,4,2,5,3).reshape(n,c//4,h*b,w*b)
case('d2s_crd','DepthToSpace',[x],[y],{'blocksize':2,'mode':'CRD'},opset=13)
x=rng.standard_normal((2,3,4,6)).astype(np.float32)
n,c,h,w=x.shape
y=x.reshape(n,c,h//2,2,w//2,2).transpose(0,3,5,1,2,4).reshape(n,c*4,h//2,w//2)
case('s2d','SpaceToDepth',[x],[y],{'blocksize':2},opset=13)
# LayerNorm with Mean/InvStdDev
for ax in [-1,1,0,-3]:
    x=rng.standard_normal((2,3,5)).astype(np.float32)
    axp=ax% 3
    nshape=x.shape[axp:]
    sc=rng.standard_normal(nshape).astype(np.float32); bi=rng.standard_normal(nshape[-1:]).astype(np.float32)
    red=tuple(range(axp,3))
    mu=x.mean(axis=red,keepdims=True); var=((x-mu)**2).mean(axis=red,keepdims=True); inv=1/np.sqrt(var+1e-5)
    y=(x-mu)*inv*sc+bi
    case(f'layernorm_{ax}','LayerNormalization',[x,sc,bi],[y.astype(np.float32),mu.astype(np.float32),inv.astype(np.float32)],{'axis':ax},opset=17)
# Split opset 18 uneven, opset 11 attr
x=rng.standard_normal((3,10)).astype(np.float32)
case('split18','Split',[x],np.array_split(x,[4,8],axis=1),{'axis':1,'num_outputs':3},opset=18)
case('split11','Split',[x],[x[:,:2],x[:,2:9],x[:,9:]],{'axis':-1,'split':[2,7,1]},opset=11)
# Einsum
eqs=[('bij,bjk->bik',[(2,3,4),(2,4,5)]),('bhqd,bhkd->bhqk',[(1,2,3,4),(1,2,5,4)]),('ij,jk',[(3,4),(4,2)]),
     ('ij->',[(3,4)]),('i,i',[(5,),(5,)]),('ij,kj->ik',[(3,4),(2,4)]),('...ij->...ji',[(2,3,4)]),('bii->bi',[(2,3,3)]),
     ('ijk,jil->kl',[(2,3,4),(3,2,5)]),('...ij,...jk->...ik',[(2,1,3,4),(1,5,4,2)]),('ij,jk->k',[(3,4),(4,2)]),('bq,bq->b',[(3,4),(1,4)]),('i,j->ij',[(3,),(4,)]),('abc,cd,de->abe',[(2,3,4),(4,2),(2,3)])]
for t,(eq,shapes) in enumerate(eqs):
    ins=[rng.standard_normal(s).astype(np.float32) for s in shapes]
    case(f'einsum_{t}','Einsum',ins,[np.einsum(eq,*ins).astype(np.float32)],{'equation':eq},opset=12)
# TopK with ties and axis
x=rng.integers(0,4,(3,6)).astype(np.float32)
for largest in [1,0]:
    o=np.argsort(-x if largest else x,axis=1,kind='stable')[:,:4]
    case(f'topk_{largest}','TopK',[x,i64(4)],[np.take_along_axis(x,o,1),o.astype(np.int64)],{'largest':largest},opset=11)
xi=rng.integers(0,4,(5,3)).astype(np.int32)
o=np.argsort(-xi,axis=0,kind='stable')[:2]
case('topk_int','TopK',[xi,i64(2)],[np.take_along_axis(xi,o,0),o.astype(np.int64)],{'axis':0},opset=11)
# NonZero int, GatherElements int32 idx
xi=rng.integers(0,2,(2,3,2)).astype(np.int32)
case('nonzero3','NonZero',[xi],[np.array(np.nonzero(xi),dtype=np.int64)],opset=13)
d=rng.standard_normal((3,4)).astype(np.float32); ind=rng.integers(-3,3,(2,4)).astype(np.int32)
case('gatherel_i32','GatherElements',[d,ind],[np.take_along_axis(d,np.mod(ind,3).astype(np.int64),0)],{'axis':0},opset=13)
# ArgMax random int
xi=rng.integers(0,3,(3,4,5)).astype(np.int64)
case('argmax_last','ArgMax',[xi],[np.expand_dims(xi.shape[1]-1-np.argmax(np.flip(xi,1),axis=1),1).astype(np.int64)],{'axis':1,'select_last_index':1},opset=13)
# InstanceNorm 3d
x=rng.standard_normal((2,3,4,5,2)).astype(np.float32); sc=rng.standard_normal(3).astype(np.float32); bi=rng.standard_normal(3).astype(np.float32)
mu=x.mean(axis=(2,3,4),keepdims=True); var=x.var(axis=(2,3,4),keepdims=True)
y=(x-mu)/np.sqrt(var+1e-5)*sc.reshape(1,3,1,1,1)+bi.reshape(1,3,1,1,1)
case('instnorm5d','InstanceNormalization',[x,sc,bi],[y.astype(np.float32)],opset=6)
# Size
case('size_int','Size',[xi],[np.array(xi.size,dtype=np.int64)],opset=13)
print(count, 'cases in', OUT)
